package io.dlsql.executor.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Layer;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A whole network run in NHWC, in NCHWc, and with a different layout on neighbouring nodes (so a
 * conversion sits on most edges) computes the logits and every gradient that NCHW computes, to
 * float rounding, in training and in evaluation. The layouts' kernels sum in other orders, and a
 * convolution's weight gradient under a batchnorm is a difference of nearly equal sums, so each
 * output's tolerance is {@link #TOL} or {@link #SPREAD_FACTOR} times the spread NCHW itself shows
 * between its Vector API and reference (double-accumulating) GEMMs, whichever is larger.
 */
class NetworkLayoutTest {
  private static final double TOL = 1e-4;
  private static final double SPREAD_FACTOR = 5;
  private static final int BATCH = 3;
  private static final int[] LABELS = {1, 7, 3};

  private static NetworkSpec spec(String arch) {
    Map<String, Object> params = switch (arch) {
      case "resnet" -> Map.of("depth", 20);
      case "mobilenet" -> Map.of("width", 50);
      default -> Map.of();
    };
    return Architectures.build(arch, params, new int[] {1, 12, 12}, 10);
  }

  private static Tensor input(int[] shape) {
    Rng rng = new Rng(11);
    Tensor x = Tensor.zeros(BATCH, shape[0], shape[1], shape[2]);
    for (long i = 0; i < x.numel(); i++) {
      x.setFlat(i, (float) rng.uniform(0, 1));
    }
    return x;
  }

  /** Training logits, every parameter gradient, then evaluation logits. */
  private static float[][] run(Network net, Tensor x) {
    try (Tensor grad = Tensor.zeros(BATCH, 10)) {
      net.setStepSeed(3);
      Tensor logits = net.forward(x, true);
      float[] out = logits.toFloatArray();
      new SoftmaxCrossEntropy(0).forward(logits, LABELS, BATCH, grad);
      net.backward(grad);
      List<Parameter> ps = net.parameters();
      float[][] all = new float[ps.size() + 2][];
      all[0] = out;
      for (int i = 0; i < ps.size(); i++) {
        all[i + 1] = ps.get(i).grad().toFloatArray();
      }
      all[ps.size() + 1] = net.forward(x, false).toFloatArray();
      return all;
    }
  }

  /** The largest |actual - expected| / (|expected| + max |expected|). */
  private static double error(float[] expected, float[] actual) {
    double scale = 0;
    for (float e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (Math.abs(expected[i]) + scale + 1e-30));
    }
    return worst;
  }

  private static void assertClose(String what, float[] expected, float[] actual, double tol) {
    assertEquals(expected.length, actual.length, what);
    double scale = 0;
    for (float e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    for (int i = 0; i < expected.length; i++) {
      if (!(Math.abs(actual[i] - expected[i]) <= tol * (Math.abs(expected[i]) + scale) + 1e-30)) {
        fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i] + " (scale " + scale + ")");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"convnet", "resnet", "mobilenet"})
  void everyLayoutComputesWhatNchwComputes(String arch) {
    NetworkSpec spec = spec(arch);
    Layout[] cycle = {Layout.NHWC, Layout.NCHWC, Layout.NCHW};
    try (Tensor x = input(spec.inputShape()); Network reference = Network.build(spec, 5);
        Network scalar = Network.build(spec, 5)) {
      float[][] expected = run(reference, x);
      Gemm.Variant before = Gemm.variant();
      // The rounding spread is measured against the other kernel variant, so the tolerance is
      // the same whether the suite runs on the vector kernels or with -Ddlsql.kernels=reference.
      Gemm.Variant other =
          before == Gemm.Variant.REFERENCE ? Gemm.Variant.VECTOR : Gemm.Variant.REFERENCE;
      float[][] spread;
      try {
        Gemm.setVariant(other);
        spread = run(scalar, x);
      } finally {
        Gemm.setVariant(before);
      }
      double[] tol = new double[expected.length];
      for (int k = 0; k < tol.length; k++) {
        tol[k] = Math.max(TOL, SPREAD_FACTOR * error(expected[k], spread[k]));
      }
      for (String variant : List.of("NHWC", "NCHWC", "mixed")) {
        try (Network net = Network.build(spec, 5)) {
          if (variant.equals("mixed")) {
            int i = 0;
            for (Layer layer : net.layers()) {
              try {
                net.chooseLayout(layer.name(), cycle[i++ % cycle.length]);
              } catch (UserException flat) {
                // dense layers have only NCHW
              }
            }
          } else {
            net.setLayout(Layout.valueOf(variant));
          }
          float[][] got = run(net, x);
          for (int k = 0; k < expected.length; k++) {
            assertClose(arch + " " + variant + " output " + k, expected[k], got[k], tol[k]);
          }
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"convnet"})
  void layoutsChooseAlgorithmsThatRunThere(String arch) {
    try (Network net = Network.build(spec(arch), 5)) {
      net.setLayout(Layout.NCHWC);
      for (Layer layer : net.layers()) {
        if (layer instanceof Conv2d c) {
          assertEquals(Conv2d.Algorithm.SPATIAL_PACK, c.algorithm(), layer.name());
          assertThrows(UserException.class, () -> net.choose(layer.name(),
              Network.NodeChoice.DEFAULT.withAlgorithm(Conv2d.Algorithm.WINOGRAD)));
        }
      }
      assertThrows(UserException.class, () -> net.chooseLayout("fc1", Layout.NHWC));
    }
  }
}
