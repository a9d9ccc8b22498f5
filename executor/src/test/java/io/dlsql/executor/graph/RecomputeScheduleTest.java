package io.dlsql.executor.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.optim.Sgd;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.MemoryTracker;
import io.dlsql.executor.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Training with recomputation gives bit-identical weights, batchnorm statistics and logits to
 * training that keeps every activation, for chains, residual and depthwise networks, under
 * schedules that cut anywhere (across skip connections too), and holds less memory.
 */
class RecomputeScheduleTest {
  private static final int[] SMALL_IMAGE = {3, 12, 12};
  private static final int BATCH = 4;
  private static final int STEPS = 3;
  private static final double LEARNING_RATE = 0.05;
  private static final double MOMENTUM = 0.9;

  private static NetworkSpec spec(String name) {
    return switch (name) {
      case "convnet" -> Architectures.build("convnet", Map.of(), new int[] {1, 12, 12}, 5);
      case "resnet20" -> Architectures.build("resnet", Map.of("depth", 20), SMALL_IMAGE, 5);
      case "mobilenet" -> Architectures.build("mobilenet", Map.of(), SMALL_IMAGE, 5);
      default -> throw new IllegalArgumentException(name);
    };
  }

  /** Weights, buffers and the last logits after a few SGD steps with dropout seeds per step. */
  private static Map<String, float[]> train(NetworkSpec spec, RecomputeSchedule schedule, long[] peak) {
    int[] in = spec.inputShape();
    try (Network net = Network.build(spec, 11);
        Sgd sgd = new Sgd(MOMENTUM, false, 0);
        Tensor x = Tensor.zeros(BATCH, in[0], in[1], in[2]);
        Tensor grad = Tensor.zeros(BATCH, spec.classes())) {
      net.setRecomputeSchedule(schedule);
      SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0);
      float[] logits = null;
      long before = MemoryTracker.liveBytes();
      MemoryTracker.resetPeak();
      for (int step = 0; step < STEPS; step++) {
        Rng rng = Rng.derive(step, 3);
        for (long i = 0; i < x.numel(); i++) {
          x.setFlat(i, (float) rng.nextGaussian());
        }
        int[] labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
          labels[i] = (step + i) % spec.classes();
        }
        net.setStepSeed(step * 7 + 1);
        Tensor out = net.forward(x, true);
        loss.forward(out, labels, BATCH, grad);
        logits = out.toFloatArray();
        net.backward(grad);
        sgd.step(net.parameters(), LEARNING_RATE);
      }
      peak[0] = MemoryTracker.peakBytes() - before;
      peak[1] = net.activationPeakBytes();
      LinkedHashMap<String, float[]> state = net.stateDict();
      state.put("logits", logits);
      return state;
    }
  }

  private static List<RecomputeSchedule> schedules(int nodes) {
    List<RecomputeSchedule> out = new ArrayList<>();
    out.add(new RecomputeSchedule(List.of(new RecomputeSchedule.Segment(0, nodes - 1)))); // everything
    out.add(RecomputeSchedule.everyNodes(nodes, 1));
    out.add(RecomputeSchedule.everyNodes(nodes, (int) Math.ceil(Math.sqrt(nodes)))); // Chen's sqrt(n)
    out.add(RecomputeSchedule.everyNodes(nodes, 3)); // cuts inside residual blocks
    // Recomputed runs with kept nodes between them.
    List<RecomputeSchedule.Segment> gaps = new ArrayList<>();
    for (int first = 1; first + 2 < nodes; first += 5) {
      gaps.add(new RecomputeSchedule.Segment(first, first + 2));
    }
    out.add(new RecomputeSchedule(gaps));
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"convnet", "resnet20", "mobilenet"})
  void everyScheduleTrainsBitIdenticallyToKeepingEverything(String name) {
    NetworkSpec spec = spec(name);
    long[] peak = new long[2];
    Map<String, float[]> expected = train(spec, RecomputeSchedule.NONE, peak);
    for (RecomputeSchedule schedule : schedules(spec.nodes().size())) {
      Map<String, float[]> got = train(spec, schedule, new long[2]);
      assertEquals(expected.keySet(), got.keySet());
      for (String k : expected.keySet()) {
        assertArrayEquals(expected.get(k), got.get(k), name + " " + k + " under " + schedule.segments());
      }
    }
  }

  @Test
  void sqrtScheduleHoldsLessThanKeepingEverything() {
    NetworkSpec spec = spec("resnet20");
    int nodes = spec.nodes().size();
    long[] keep = new long[2];
    long[] sqrt = new long[2];
    train(spec, RecomputeSchedule.NONE, keep);
    train(spec, RecomputeSchedule.everyNodes(nodes, (int) Math.ceil(Math.sqrt(nodes))), sqrt);
    // Weights, optimizer state and per-layer workspaces dominate the whole peak at this size;
    // the activations and their gradients are what recomputation saves.
    assertTrue(sqrt[1] < keep[1] * 0.6, "sqrt(n) activations " + sqrt[1] + " vs keeping everything " + keep[1]);
    assertTrue(sqrt[0] < keep[0], "sqrt(n) peak " + sqrt[0] + " vs keeping everything " + keep[0]);
  }

  @Test
  void rejectsSegmentsPastTheLastNodeOrOverlapping() {
    try (Network net = Network.build(spec("convnet"), 1)) {
      IntFunction<RecomputeSchedule> past = n -> new RecomputeSchedule(List.of(new RecomputeSchedule.Segment(0, n)));
      assertThrows(IllegalArgumentException.class, () -> net.setRecomputeSchedule(past.apply(net.layers().size())));
    }
    assertThrows(IllegalArgumentException.class, () -> new RecomputeSchedule(
        List.of(new RecomputeSchedule.Segment(0, 3), new RecomputeSchedule.Segment(3, 5))));
  }
}
