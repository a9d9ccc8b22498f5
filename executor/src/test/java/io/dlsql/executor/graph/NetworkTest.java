package io.dlsql.executor.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.MemoryTracker;
import io.dlsql.executor.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NetworkTest {
  /** A DAG with a residual add, a branch read twice, a concat and batchnorm; smooth activations for finite differences. */
  static NetworkSpec dag() {
    return new NetworkSpecBuilder().input("image", new int[] {2, 6, 6})
        .layer("CONV2D", List.of(3), Map.of("KERNEL", 3, "PADDING", 1), null)
        .layer("TANH", List.of(), Map.of(), "x")
        .layer("CONV2D", List.of(3), Map.of("KERNEL", 3, "PADDING", 1, "BIAS", false), null)
        .layer("BATCHNORM", List.of(), Map.of(), null)
        .layer("ADD", List.of("x"), Map.of(), null)
        .layer("SIGMOID", List.of(), Map.of(), "y")
        .layer("CONV2D", List.of(2), Map.of("KERNEL", 1, "STRIDE", 1, "INPUT", "x"), null)
        .layer("CONCAT", List.of("y", "x"), Map.of(), null)
        .layer("AVGPOOL", List.of(2), Map.of(), null)
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(4), Map.of(), null)
        .build(4);
  }

  private static Tensor randomInput(int n, int[] shape, long seed) {
    Rng rng = new Rng(seed);
    Tensor x = Tensor.zeros(n, shape[0], shape[1], shape[2]);
    for (long i = 0; i < x.numel(); i++) {
      x.setFlat(i, (float) rng.uniform(-1, 1));
    }
    return x;
  }

  private static double loss(Network net, Tensor x, int[] labels, Tensor grad) {
    return new SoftmaxCrossEntropy(0).forward(net.forward(x, true), labels, x.dim(0), grad);
  }

  @Test
  void gradientsThroughTheGraphMatchFiniteDifferences() {
    NetworkSpec spec = dag();
    int[] labels = {0, 3, 1};
    try (Network net = Network.build(spec, 7);
        Tensor x = randomInput(3, spec.inputShape(), 8);
        Tensor grad = Tensor.zeros(3, 4)) {
      loss(net, x, labels, grad);
      net.backward(grad);
      Rng pick = new Rng(9);
      double h = 1e-2;
      for (Parameter p : net.parameters()) {
        float[] analytic = p.grad().toFloatArray();
        for (int t = 0; t < 6; t++) {
          long i = pick.nextInt((int) p.value().numel());
          float keep = p.value().getFlat(i);
          p.value().setFlat(i, keep + (float) h);
          double up = loss(net, x, labels, null);
          p.value().setFlat(i, keep - (float) h);
          double down = loss(net, x, labels, null);
          p.value().setFlat(i, keep);
          double numeric = (up - down) / (2 * h);
          double err = Math.abs(numeric - analytic[(int) i]);
          assertTrue(err <= 2e-4 + 2e-2 * Math.abs(numeric),
              p.name() + "[" + i + "]: numeric " + numeric + ", backprop " + analytic[(int) i]);
        }
      }
    }
  }

  @Test
  void directAndIm2colConvolutionGiveTheSameNetwork() {
    NetworkSpec spec = dag();
    try (Network a = Network.build(spec, 3);
        Network b = Network.build(spec, 3);
        Tensor x = randomInput(4, spec.inputShape(), 4);
        Tensor grad = Tensor.zeros(4, 4)) {
      b.setConvAlgorithm(Conv2d.Algorithm.DIRECT);
      int[] labels = {1, 2, 3, 0};
      double la = loss(a, x, labels, grad);
      a.backward(grad);
      double lb = loss(b, x, labels, grad);
      b.backward(grad);
      assertEquals(la, lb, 1e-5);
      List<Parameter> pa = a.parameters();
      List<Parameter> pb = b.parameters();
      for (int i = 0; i < pa.size(); i++) {
        float[] ga = pa.get(i).grad().toFloatArray();
        float[] gb = pb.get(i).grad().toFloatArray();
        for (int j = 0; j < ga.length; j++) {
          assertEquals(gb[j], ga[j], 1e-5 + 1e-4 * Math.abs(gb[j]), pa.get(i).name());
        }
      }
    }
  }

  @Test
  void stateDictNamesShapesAndRoundTrip() {
    NetworkSpec spec = dag();
    try (Network a = Network.build(spec, 1); Network b = Network.build(spec, 2)) {
      LinkedHashMap<String, int[]> shapes = a.shapes();
      assertEquals(List.of("conv1.weight", "conv1.bias", "conv2.weight", "bn1.weight", "bn1.bias",
          "bn1.running_mean", "bn1.running_var", "conv3.weight", "conv3.bias", "dense1.weight", "dense1.bias"),
          List.copyOf(shapes.keySet()));
      assertArrayEquals(new int[] {3, 2, 3, 3}, shapes.get("conv1.weight"));
      assertArrayEquals(new int[] {4, 72}, shapes.get("dense1.weight"));
      assertEquals(3 * 2 * 9 + 3 + 3 * 3 * 9 + 3 + 3 + 2 * 3 + 2 + 72 * 4 + 4, a.parameterCount());
      b.loadStateDict(a.stateDict());
      LinkedHashMap<String, float[]> sa = a.stateDict();
      LinkedHashMap<String, float[]> sb = b.stateDict();
      for (String k : sa.keySet()) {
        assertArrayEquals(sa.get(k), sb.get(k), k);
      }
      LinkedHashMap<String, float[]> broken = a.stateDict();
      broken.remove("conv2.weight");
      assertEquals("the saved weights lack conv2.weight",
          assertThrows(UserException.class, () -> b.loadStateDict(broken)).getMessage());
      LinkedHashMap<String, float[]> wrong = a.stateDict();
      wrong.put("dense1.bias", new float[3]);
      assertEquals("the saved dense1.bias has 3 values, the model needs 4 (shape [4])",
          assertThrows(UserException.class, () -> b.loadStateDict(wrong)).getMessage());
      LinkedHashMap<String, float[]> extra = a.stateDict();
      extra.put("fc9.weight", new float[1]);
      assertTrue(assertThrows(UserException.class, () -> b.loadStateDict(extra)).getMessage().contains("fc9.weight"));
    }
  }

  @Test
  void defaultInitialisationBoundsAreOneOverSqrtFanIn() {
    NetworkSpec spec = dag();
    try (Network net = Network.build(spec, 5)) {
      for (Parameter p : net.parameters()) {
        if (p.name().startsWith("bn")) {
          continue;
        }
        int fanIn = switch (p.name().substring(0, p.name().indexOf('.'))) {
          case "conv1" -> 2 * 9;
          case "conv2" -> 3 * 9;
          case "conv3" -> 3;
          default -> 72;
        };
        double bound = 1 / Math.sqrt(fanIn);
        float[] v = p.value().toFloatArray();
        double max = 0;
        for (float f : v) {
          assertTrue(Math.abs(f) <= bound, p.name());
          max = Math.max(max, Math.abs(f));
        }
        if (v.length > 20) {
          assertTrue(max > bound * 0.8, p.name() + " spans its range");
        }
      }
    }
  }

  @Test
  void smallerBatchesReuseBuffersAndTrackMemory() {
    NetworkSpec spec = dag();
    try (Network net = Network.build(spec, 5)) {
      try (Tensor big = randomInput(8, spec.inputShape(), 1)) {
        net.forward(big, true);
      }
      long live = MemoryTracker.liveBytes();
      try (Tensor small = randomInput(3, spec.inputShape(), 1)) {
        // Same mode, so the same buffers in the same order: all from the pool.
        Tensor logits = net.forward(small, true);
        assertArrayEquals(new int[] {3, 4}, logits.shape());
      }
      assertEquals(live, MemoryTracker.liveBytes(), "no new buffers for a smaller batch");
      // input 2x6x6; six 3x6x6 nodes; conv3 2x6x6; concat 8x6x6; pool and flatten 72; dense 4
      assertEquals((72 + 6 * 108 + 72 + 288 + 72 + 72 + 4) * 4L * 10,
          net.activationBytes(10));
    }
  }
}
