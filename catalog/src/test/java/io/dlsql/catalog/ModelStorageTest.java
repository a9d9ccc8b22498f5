package io.dlsql.catalog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models, weights, checkpoints, the training log and tuning records. */
class ModelStorageTest {
  @TempDir Path dir;

  static ModelInfo convnet(String name) {
    return ModelInfo.builder(name)
        .definition("CREATE MODEL " + name + " (INPUT image TENSOR(1, 28, 28), DENSE(10))")
        .statement("CREATE MODEL " + name)
        .inputName("image")
        .inputDims(1, 28, 28)
        .labelColumn("label")
        .classes(10)
        .property("optimizer", "sgd")
        .build();
  }

  static WeightSet weights(float fill) {
    LinkedHashMap<String, NDArray> m = new LinkedHashMap<>();
    float[] w = new float[6];
    java.util.Arrays.fill(w, fill);
    m.put("dense.weight", NDArray.ofFloats(new int[] {2, 3}, w));
    m.put("dense.bias", NDArray.ofFloats(new int[] {2}, new float[] {fill, -fill}));
    m.put("q.weight", NDArray.ofBytes(new int[] {4}, DType.INT8, new byte[] {1, -2, 3, -4}));
    m.put(
        "h.weight",
        NDArray.ofBytes(
            new int[] {2}, DType.BFLOAT16, new byte[] {(byte) 0x80, 0x3f, 0x00, (byte) 0xc0}));
    return new WeightSet(m);
  }

  private long filesIn(String sub) throws IOException {
    try (var s = Files.list(dir.resolve(sub))) {
      return s.count();
    }
  }

  @Test
  void modelLifecycleSurvivesReopen() throws IOException {
    try (Catalog c = Catalog.open(dir)) {
      ModelInfo defined = c.createModel(convnet("ConvNet"), false);
      assertEquals("convnet", defined.name());
      assertEquals(ModelStatus.DEFINED, defined.status());
      UserException noWeights = assertThrows(UserException.class, () -> c.loadWeights("convnet"));
      assertTrue(noWeights.getMessage().contains("no weights yet"), noWeights.getMessage());
      UserException dup =
          assertThrows(UserException.class, () -> c.createModel(convnet("CONVNET"), false));
      assertTrue(dup.getMessage().contains("already exists"), dup.getMessage());

      ModelInfo trained =
          c.saveModel(
              defined.toBuilder()
                  .kind("trained")
                  .epochsTrained(3)
                  .lastTrainLoss(0.25)
                  .parameterCount(8)
                  .build(),
              weights(1.5f));
      assertEquals(ModelStatus.TRAINED, trained.status());
      assertEquals(1, filesIn(Catalog.MODELS_DIR));
      try (var s = Files.list(dir.resolve(Catalog.MODELS_DIR))) {
        assertEquals(Files.size(s.findFirst().orElseThrow()), trained.sizeBytes());
      }
      c.updateModelInfo(
          trained.toBuilder()
              .accuracy(0.91)
              .loss(0.3)
              .status(ModelStatus.DEFINED)
              .sizeBytes(1)
              .build());
    }
    try (Catalog c = Catalog.open(dir)) {
      ModelInfo m = c.model("CONVNET").orElseThrow();
      assertEquals(
          ModelStatus.TRAINED,
          m.status(),
          "status describes the weights file, not the caller's copy");
      assertEquals(0.91, m.accuracy());
      assertEquals(0.25, m.lastTrainLoss());
      assertNull(m.latencyMs());
      assertArrayEquals(new int[] {1, 28, 28}, m.inputDims());
      assertEquals(Map.of("optimizer", "sgd"), m.properties());
      WeightSet w = c.loadWeights("convnet");
      assertEquals(weights(1.5f), w);
      assertEquals(
          List.of("dense.weight", "dense.bias", "q.weight", "h.weight"),
          List.copyOf(w.arrays().keySet()));
      assertArrayEquals(new float[] {1.5f, -1.5f}, w.get("dense.bias").floats());
      assertArrayEquals(new float[] {1f, -2f}, w.get("h.weight").floats());

      // A derived variant records its lineage.
      c.saveModel(
          convnet("convnet_int8").toBuilder()
              .kind("quantized")
              .parent("ConvNet")
              .statement("COMPRESS MODEL ...")
              .build(),
          weights(2f));
      assertEquals("convnet", c.model("convnet_int8").orElseThrow().parent());
      assertEquals(
          List.of("convnet", "convnet_int8"), c.models().stream().map(ModelInfo::name).toList());

      // Replacing the definition drops the weights.
      c.createModel(convnet("convnet"), true);
      assertEquals(ModelStatus.DEFINED, c.model("convnet").orElseThrow().status());
      assertEquals(1, filesIn(Catalog.MODELS_DIR));
      assertTrue(c.dropModel("convnet_int8", false));
      assertFalse(c.dropModel("convnet_int8", true));
      assertThrows(UserException.class, () -> c.dropModel("convnet_int8", false));
      assertEquals(0, filesIn(Catalog.MODELS_DIR));
    }
  }

  @Test
  void checkpointsReplaceEachOtherAndGoWithTheModel() throws IOException {
    try (Catalog c = Catalog.open(dir)) {
      assertThrows(UserException.class, () -> c.saveCheckpoint("nope", 1, weights(1), Map.of()));
      c.createModel(convnet("m"), false);
      assertTrue(c.checkpoint("m").isEmpty());
      c.saveCheckpoint("m", 1, weights(1), Map.of("run", "r1"));
      c.saveCheckpoint("M", 2, weights(2), Map.of("run", "r1", "seed", "42"));
      assertEquals(1, filesIn(Catalog.CHECKPOINTS_DIR));
    }
    try (Catalog c = Catalog.open(dir)) {
      Checkpoint cp = c.checkpoint("m").orElseThrow();
      assertEquals(2, cp.epoch());
      assertEquals(Map.of("run", "r1", "seed", "42"), cp.meta());
      assertEquals(weights(2), cp.state());
      assertTrue(c.deleteCheckpoint("m"));
      assertFalse(c.deleteCheckpoint("m"));
      c.saveCheckpoint("m", 3, weights(3), Map.of());
      c.dropModel("m", false);
      assertTrue(c.checkpoint("m").isEmpty());
      assertEquals(0, filesIn(Catalog.CHECKPOINTS_DIR));
    }
  }

  @Test
  void trainingLogAndTuningRecordsAreDurable() {
    Instant t = Instant.parse("2025-01-02T03:04:05.123456789Z");
    TrainingLogRow first =
        new TrainingLogRow("M", "run-1", 1, 0.9, 0.6, 0.8, 0.65, 0.05, 12.5, 4800, 1L << 30, t);
    TrainingLogRow second =
        new TrainingLogRow(
            "m", "run-1", 2, 0.5, 0.8, null, null, 0.05, 12.0, 5000, 1L << 30, t.plusSeconds(12));
    try (Catalog c = Catalog.open(dir)) {
      c.appendTrainingLog(first);
      c.appendTrainingLog(second);
      c.putTuningRecord("conv2d:1x28x28:k5", Map.of("algorithm", "im2col", "ms", "0.31"));
      c.putTuningRecords(
          Map.of("dense:1024", Map.of("ms", "0.05"), "conv2d:1x28x28:k5", Map.of("ms", "0.29")));
    }
    try (Catalog c = Catalog.open(dir)) {
      assertEquals(List.of(first, second), c.trainingLog());
      assertEquals("m", c.trainingLog().get(0).model());
      assertEquals(Map.of("ms", "0.29"), c.tuningRecords().get("conv2d:1x28x28:k5"));
      assertEquals(2, c.tuningRecords().size());
    }
  }

  @Test
  void ndArrayChecksItsByteLength() {
    assertThrows(
        IllegalArgumentException.class,
        () -> NDArray.ofBytes(new int[] {3}, DType.FLOAT32, new byte[8]));
    assertThrows(
        IllegalStateException.class,
        () -> NDArray.ofBytes(new int[] {1}, DType.INT8, new byte[1]).floats());
  }
}
