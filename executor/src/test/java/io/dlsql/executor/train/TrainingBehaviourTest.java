package io.dlsql.executor.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Determinism, resume, cancellation, early stopping, validation split, augmentation, evaluation. */
class TrainingBehaviourTest {
  private static final NetworkSpec SPEC = TrainerTest.smallConvnet(8, 4);
  private Gemm.Variant gemm;

  /**
   * Bit-identical runs need every kernel to round the same way each time. Both GEMM variants fix
   * their summation order, so each test runs with the variant the build selects (the vector one
   * by default, the reference one with {@code -Ddlsql.kernels=reference}); the variant is
   * restored afterwards in case a test changed it.
   */
  @BeforeEach
  void rememberGemm() {
    gemm = Gemm.variant();
  }

  @AfterEach
  void restoreGemm() {
    Gemm.setVariant(gemm);
  }

  private static Map<String, Object> richOptions() {
    Map<String, Object> m = new HashMap<>();
    m.put("epochs", 3);
    m.put("batch_size", 24);
    m.put("optimizer", "adamw");
    m.put("learning_rate", 0.01);
    m.put("schedule", "cosine");
    m.put("warmup_epochs", 1);
    m.put("clip_norm", 5.0);
    m.put("label_smoothing", 0.1);
    m.put("validation", 0.2);
    m.put("augment", true);
    m.put("crop_padding", 1);
    m.put("seed", 11);
    return m;
  }

  private static TrainResult train(Network net, Dataset data, Map<String, Object> options, TrainListener l, TrainState resume) {
    return new Trainer().fit(net, data, null, TrainOptions.fromMap(options), l, null, resume);
  }

  private static void assertSameWeights(Map<String, float[]> a, Map<String, float[]> b) {
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) {
      assertArrayEquals(a.get(k), b.get(k), k);
    }
  }

  @Test
  void twoRunsWithTheSameSeedAreBitIdentical() {
    Dataset data = SyntheticData.quadrants(100, 1, 8, 5);
    try (Network a = Network.build(SPEC, 1); Network b = Network.build(SPEC, 1)) {
      TrainResult ra = train(a, data, richOptions(), null, null);
      TrainResult rb = train(b, data, richOptions(), null, null);
      assertSameWeights(a.stateDict(), b.stateDict());
      assertTrue(ra.finalState().sameNumbers(rb.finalState()));
      assertEquals(ra.history().get(2).trainLoss(), rb.history().get(2).trainLoss());
      assertTrue(ra.history().get(0).hasValidation());
      Map<String, Object> other = richOptions();
      other.put("seed", 12);
      try (Network c = Network.build(SPEC, 1)) {
        train(c, data, other, null, null);
        assertFalse(java.util.Arrays.equals(a.stateDict().get("c1.weight"), c.stateDict().get("c1.weight")));
      }
    }
  }

  @Test
  void resumingFromACheckpointEqualsAnUninterruptedRun() {
    Dataset data = SyntheticData.quadrants(100, 1, 8, 6);
    List<TrainState> states = new ArrayList<>();
    List<EpochStats> stats = new ArrayList<>();
    TrainListener record = new TrainListener() {
      @Override
      public void onEpoch(EpochStats s, TrainState state) {
        stats.add(s);
        states.add(state);
      }
    };
    try (Network full = Network.build(SPEC, 2); Network resumed = Network.build(SPEC, 99)) {
      TrainResult whole = train(full, data, richOptions(), record, null);
      TrainState afterOne = states.get(0);
      // Through the flat export a checkpoint file would hold.
      TrainState reread = TrainState.fromExport(afterOne.toTensors(), afterOne.shapes(), afterOne.toMetadata());
      assertEquals(1, reread.epochsCompleted());
      assertArrayEquals(new int[] {4, 1, 5, 5}, afterOne.shapes().get("model.c1.weight"));
      List<EpochStats> later = new ArrayList<>();
      TrainResult rest = train(resumed, data, richOptions(), new TrainListener() {
        @Override
        public void onEpoch(EpochStats s, TrainState state) {
          later.add(s);
        }
      }, reread);
      assertEquals(2, rest.history().size());
      assertEquals(2, later.get(0).epoch());
      assertSameWeights(full.stateDict(), resumed.stateDict());
      assertTrue(whole.finalState().sameNumbers(rest.finalState()));
      assertEquals(stats.get(2).trainLoss(), later.get(1).trainLoss());
      assertEquals(stats.get(2).valAccuracy(), later.get(1).valAccuracy());
    }
  }

  @Test
  void cancellationRevertsToTheLastCompletedEpoch() {
    Dataset data = SyntheticData.quadrants(96, 1, 8, 7);
    List<TrainState> states = new ArrayList<>();
    AtomicInteger batches = new AtomicInteger();
    Map<String, Object> options = new HashMap<>(Map.of("epochs", 3, "batch_size", 16, "learning_rate", 0.05, "momentum", 0.9));
    try (Network net = Network.build(SPEC, 3)) {
      TrainingCancelledException e = assertThrows(TrainingCancelledException.class, () ->
          new Trainer().fit(net, data, null, TrainOptions.fromMap(options), new TrainListener() {
            @Override
            public void onBatch(BatchProgress p) {
              batches.incrementAndGet();
              assertTrue(p.imagesPerSec() > 0 && p.etaSeconds() >= 0);
            }

            @Override
            public void onEpoch(EpochStats s, TrainState state) {
              states.add(state);
            }
          }, () -> batches.get() >= 9, null));
      assertEquals(1, e.lastCompletedEpoch());
      assertEquals(9, batches.get(), "checked before every batch");
      assertSameWeights(states.get(0).weights(), net.stateDict());
    }
  }

  @Test
  void earlyStoppingEndsWhenValidationAccuracyStopsImproving() {
    Dataset data = SyntheticData.quadrants(80, 1, 8, 8);
    Map<String, Object> options = new HashMap<>(Map.of(
        "epochs", 6, "batch_size", 20, "learning_rate", 1e-12, "validation", 0.25, "early_stopping", 2));
    try (Network net = Network.build(SPEC, 4)) {
      TrainResult r = train(net, data, options, null, null);
      assertTrue(r.stoppedEarly());
      assertEquals(1, r.bestEpoch());
      assertEquals(3, r.history().size());
    }
    assertEquals("early_stopping needs validation data (set validation = 0.1, for example)",
        assertThrows(UserException.class, () -> {
          try (Network net = Network.build(SPEC, 4)) {
            train(net, data, Map.of("early_stopping", 2), null, null);
          }
        }).getMessage());
  }

  @Test
  void evaluationAndPrediction() {
    InMemoryDataset data = SyntheticData.quadrants(50, 1, 8, 9);
    try (Network net = Network.build(SPEC, 5)) {
      train(net, data, Map.of("epochs", 2, "batch_size", 10, "learning_rate", 0.05, "momentum", 0.9), null, null);
      EvaluationResult r = Evaluator.evaluate(net, data, 16);
      long total = 0;
      long diagonal = 0;
      for (int c = 0; c < 4; c++) {
        for (int p = 0; p < 4; p++) {
          total += r.confusion()[c][p];
        }
        diagonal += r.confusion()[c][c];
      }
      assertEquals(50, total);
      assertEquals(diagonal / 50.0, r.accuracy(), 1e-12);
      float[] probs = Predictor.predict(net, data, 16, true);
      float[] logits = Predictor.predict(net, data, 7, false);
      int correct = 0;
      for (int i = 0; i < 50; i++) {
        double sum = 0;
        int best = 0;
        for (int c = 0; c < 4; c++) {
          sum += probs[i * 4 + c];
          if (logits[i * 4 + c] > logits[i * 4 + best]) {
            best = c;
          }
        }
        assertEquals(1.0, sum, 1e-5);
        correct += best == data.label(i) ? 1 : 0;
      }
      assertEquals(r.accuracy(), correct / 50.0, 1e-12);
    }
  }

  @Test
  void augmentationCropsAndFlips() {
    Augmentation flipOnly = new Augmentation(new int[] {1, 2, 3}, 0, true);
    try (Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, 2, 1, 2, 3)) {
      boolean flipped = false;
      boolean kept = false;
      for (int epoch = 0; epoch < 8; epoch++) {
        x.copyFrom(new float[] {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6});
        flipOnly.apply(x, 2, 1, epoch, 0);
        float[] v = x.toFloatArray();
        for (int s = 0; s < 2; s++) {
          float[] sample = java.util.Arrays.copyOfRange(v, s * 6, s * 6 + 6);
          if (java.util.Arrays.equals(sample, new float[] {3, 2, 1, 6, 5, 4})) {
            flipped = true;
          } else {
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, sample);
            kept = true;
          }
        }
      }
      assertTrue(flipped && kept);
    }
    Augmentation crop = new Augmentation(new int[] {1, 3, 3}, 1, false);
    try (Tensor x = Tensor.zeros(1, 1, 3, 3)) {
      float[] image = {1, 2, 3, 4, 5, 6, 7, 8, 9};
      for (int epoch = 0; epoch < 10; epoch++) {
        x.copyFrom(image);
        crop.apply(x, 1, 2, epoch, 0);
        float[] v = x.toFloatArray();
        // A shifted copy: every non-zero value keeps its neighbours' differences.
        int nonZero = 0;
        for (float f : v) {
          nonZero += f != 0 ? 1 : 0;
        }
        assertTrue(nonZero == 9 || nonZero == 6 || nonZero == 4, java.util.Arrays.toString(v));
      }
    }
  }

  @Test
  void trainingStateNamesAndWrongShapes() {
    Dataset wrong = SyntheticData.quadrants(10, 1, 9, 1);
    try (Network net = Network.build(SPEC, 4)) {
      assertEquals("the model takes images of shape [1, 8, 8] but the data has [1, 9, 9]",
          assertThrows(UserException.class, () -> train(net, wrong, Map.of(), null, null)).getMessage());
      LinkedHashMap<String, float[]> tensors = new LinkedHashMap<>();
      tensors.put("weights.x", new float[1]);
      assertThrows(UserException.class, () -> TrainState.fromExport(tensors, Map.of(), Map.of("epochs_completed", "1")));
    }
  }
}
