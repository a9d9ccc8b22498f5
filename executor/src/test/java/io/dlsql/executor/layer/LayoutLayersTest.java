package io.dlsql.executor.layer;

import static io.dlsql.executor.layer.LayoutConvMatrixTest.inLayout;
import static io.dlsql.executor.layer.LayoutConvMatrixTest.nchw;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.dlsql.executor.graph.Op;
import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.blocked.ChannelPadding;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every layer that touches images, run on NHWC and NCHWc inputs, computes what it computes on
 * NCHW (which the float64 reference tests pin): outputs, input gradients and parameter gradients,
 * with the Vector API and the scalar kernels, on 1 and 3 threads, with channel counts below, at
 * and past one block of 16. NCHWc padding channels of outputs and input gradients stay zero.
 */
class LayoutLayersTest {
  private static final double TOL = 1e-5;
  private static final int N = 3;

  /** A named layer factory and its per-sample input shapes. */
  record Case(String name, Supplier<Layer> layer, int[][] inputs, int[] output) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<Case> cases() {
    List<Case> out = new ArrayList<>();
    for (int c : new int[] {5, 16, 37}) {
      int[] img = {c, 7, 9};
      out.add(new Case("batchnorm c=" + c, () -> new BatchNorm2d("bn", img, 1e-5, 0.1), new int[][] {img}, img));
      out.add(new Case("batchnorm+relu c=" + c, () -> {
        BatchNorm2d b = new BatchNorm2d("bn", img, 1e-5, 0.1);
        b.setFusedActivation(FusedActivation.RELU);
        return b;
      }, new int[][] {img}, img));
      for (Op op : List.of(Op.RELU, Op.SIGMOID, Op.TANH, Op.LEAKY_RELU)) {
        out.add(new Case(op + " c=" + c, () -> new Activation("act", img, op, 0.1), new int[][] {img}, img));
      }
      int[] pooled = {c, 3, 4};
      out.add(new Case("maxpool 2x2 c=" + c, () -> new Pool2d("p", img, pooled, true, 2, 2, 2, 2, 0, 0),
          new int[][] {img}, pooled));
      int[] overlap = {c, 4, 5};
      out.add(new Case("maxpool 3x3/2 pad 1 c=" + c, () -> new Pool2d("p", img, overlap, true, 3, 3, 2, 2, 1, 1),
          new int[][] {img}, overlap));
      out.add(new Case("avgpool 3x3/2 pad 1 c=" + c, () -> new Pool2d("p", img, overlap, false, 3, 3, 2, 2, 1, 1),
          new int[][] {img}, overlap));
      out.add(new Case("global avgpool c=" + c, () -> new GlobalAvgPool("g", img), new int[][] {img}, new int[] {c}));
      out.add(new Case("flatten c=" + c, () -> new Flatten("f", c * 7 * 9), new int[][] {img}, new int[] {c * 7 * 9}));
      out.add(new Case("dropout c=" + c, () -> {
        Dropout d = new Dropout("d", img, 0.3);
        d.setSeed(42);
        return d;
      }, new int[][] {img}, img));
      out.add(new Case("add+relu c=" + c, () -> {
        Add a = new Add("a", img);
        a.setFusedActivation(FusedActivation.RELU);
        return a;
      }, new int[][] {img, img}, img));
    }
    for (int[] parts : new int[][] {{16, 16}, {5, 16, 11}, {16, 7}, {3, 3}}) {
      int total = 0;
      int[][] in = new int[parts.length][];
      for (int k = 0; k < parts.length; k++) {
        in[k] = new int[] {parts[k], 5, 6};
        total += parts[k];
      }
      int[] whole = {total, 5, 6};
      out.add(new Case("concat " + java.util.Arrays.toString(parts), () -> new Concat("cat", in, whole), in, whole));
    }
    return out;
  }

  private static Tensor random(Rng rng, int... shape) {
    Tensor t = Tensor.zeros(shape);
    for (long i = 0; i < t.numel(); i++) {
      t.setFlat(i, (float) rng.uniform(-1, 1));
    }
    return t;
  }

  private static int[] batched(int[] s) {
    int[] out = new int[s.length + 1];
    out[0] = N;
    System.arraycopy(s, 0, out, 1, s.length);
    return out;
  }

  /** Output, input gradients, parameter gradients and buffers of one forward + backward in {@code layout}. */
  private static List<float[]> run(Case c, Layout layout, Tensor[] x, Tensor dy) {
    List<float[]> out = new ArrayList<>();
    List<Tensor> owned = new ArrayList<>();
    try (Layer layer = c.layer().get()) {
      Tensor[] in = new Tensor[x.length];
      Tensor[] dx = new Tensor[x.length];
      for (int k = 0; k < x.length; k++) {
        in[k] = inLayout(x[k], layout);
        dx[k] = Tensor.zeros(layout, x[k].shape());
        owned.add(in[k]);
        owned.add(dx[k]);
      }
      boolean image = c.output().length == 3;
      Tensor y = Tensor.zeros(image ? layout : Layout.NCHW, batched(c.output()));
      Tensor g = image ? inLayout(dy, layout) : Tensor.zeros(dy.shape());
      if (!image) {
        g.copyFrom(dy);
      }
      owned.add(y);
      owned.add(g);
      layer.forward(in, y, true);
      layer.backward(in, y, g, dx);
      assertEquals(0f, ChannelPadding.maxAbs(y), c + " " + layout + ": padding of y");
      out.add(image ? nchw(y) : y.toFloatArray());
      for (Tensor d : dx) {
        assertEquals(0f, ChannelPadding.maxAbs(d), c + " " + layout + ": padding of dx");
        out.add(nchw(d));
      }
      for (Parameter p : layer.parameters()) {
        out.add(p.grad().toFloatArray());
      }
      for (Tensor b : layer.buffers().values()) {
        out.add(b.toFloatArray());
      }
      return out;
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void everyLayoutComputesWhatNchwComputes(Case c) {
    Rng rng = new Rng(c.name().hashCode());
    Tensor[] x = new Tensor[c.inputs().length];
    for (int k = 0; k < x.length; k++) {
      x[k] = random(rng, batched(c.inputs()[k]));
    }
    Tensor dy = random(rng, batched(c.output()));
    Gemm.Variant variantBefore = Gemm.variant();
    int threadsBefore = Parallel.get().threads();
    try {
      List<float[]> expected = run(c, Layout.NCHW, x, dy);
      for (Layout layout : List.of(Layout.NHWC, Layout.NCHWC)) {
        for (Gemm.Variant variant : Gemm.Variant.values()) {
          for (int threads : new int[] {1, 3}) {
            Gemm.setVariant(variant);
            Parallel.setThreads(threads);
            List<float[]> got = run(c, layout, x, dy);
            for (int k = 0; k < expected.size(); k++) {
              assertClose(c + " " + layout + "/" + variant + "/" + threads + " output " + k, expected.get(k), got.get(k));
            }
          }
        }
      }
    } finally {
      Gemm.setVariant(variantBefore);
      Parallel.setThreads(threadsBefore);
      for (Tensor t : x) {
        t.close();
      }
      dy.close();
    }
  }

  private static void assertClose(String what, float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length, what);
    double scale = 0;
    for (float e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    for (int i = 0; i < expected.length; i++) {
      if (!(Math.abs(actual[i] - expected[i]) <= TOL * (Math.abs(expected[i]) + scale) + 1e-30)) {
        fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
      }
    }
  }
}
