package io.dlsql.executor.layer;

import static io.dlsql.executor.layer.Checks.assertClose;
import static io.dlsql.executor.layer.Checks.randomFloats;
import static io.dlsql.executor.layer.Checks.set;
import static io.dlsql.executor.layer.Checks.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.blocked.ChannelPadding;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.layout.LayoutConversion;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The algorithm x layout matrix: every pair {@link Conv2d#supports(Conv2d.Algorithm, Layout,
 * ConvGeometry)} admits, with and without a fused ReLU, with the Vector API kernels and their
 * scalar twins, on one and three threads, passes the checks the NCHW algorithms pass: forward,
 * input gradient and weight and bias gradients against the float64 reference, on odd shapes
 * (channels not multiples of 16, stride 2, padding, dilation, groups, depthwise, rows narrower
 * and wider than the spatial-pack tile). NCHWc outputs and input gradients keep their padding
 * channels zero.
 */
class LayoutConvMatrixTest {
  private static final double FLOAT_TOL = 2e-5;
  private static final List<Layout> CHANNEL_LAYOUTS = List.of(Layout.NHWC, Layout.NCHWC);

  static List<Reference64.Conv> cases() {
    List<Reference64.Conv> out = new ArrayList<>(LayerReferenceTest.convCases());
    // n, c, h, w, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups
    out.add(new Reference64.Conv(2, 20, 9, 10, 37, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(2, 17, 17, 18, 33, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(3, 32, 6, 9, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1));
    out.add(new Reference64.Conv(2, 24, 8, 8, 40, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1));
    out.add(new Reference64.Conv(2, 1, 12, 12, 32, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1));
    out.add(new Reference64.Conv(2, 24, 7, 7, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 24));
    out.add(new Reference64.Conv(2, 18, 12, 11, 18, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 18));
    out.add(new Reference64.Conv(2, 6, 6, 6, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2));
    return out;
  }

  static ConvGeometry geometry(Reference64.Conv p) {
    return new ConvGeometry(p.c(), p.h(), p.w(), p.oc(), p.kh(), p.kw(), p.sh(), p.sw(), p.pt(),
        p.pl(), p.dh(), p.dw(), p.groups(), p.oh(), p.ow());
  }

  /** A copy of {@code t} (NCHW) in {@code layout}. */
  static Tensor inLayout(Tensor t, Layout layout) {
    Tensor out = Tensor.zeros(layout, t.shape());
    LayoutConversion.convert(t, out);
    return out;
  }

  /** {@code t}'s elements in NCHW order. */
  static float[] nchw(Tensor t) {
    try (Tensor out = Tensor.zeros(t.shape())) {
      LayoutConversion.convert(t, out);
      return out.toFloatArray();
    }
  }

  /** {y, dx, dw, db} of one run in {@code layout}; asserts NCHWc padding stays zero. */
  private static float[][] run(Reference64.Conv p, Conv2d.Algorithm algorithm, Layout layout, FusedActivation act,
      double[] x, double[] w, double[] b, double[] dy) {
    try (Conv2d layer = new Conv2d("conv", geometry(p), true);
        Tensor x0 = tensor(x, p.n(), p.c(), p.h(), p.w());
        Tensor dy0 = tensor(dy, p.n(), p.oc(), p.oh(), p.ow());
        Tensor xt = inLayout(x0, layout);
        Tensor dyt = inLayout(dy0, layout);
        Tensor yt = Tensor.zeros(layout, p.n(), p.oc(), p.oh(), p.ow());
        Tensor dxt = Tensor.zeros(layout, p.n(), p.c(), p.h(), p.w())) {
      layer.setAlgorithm(algorithm);
      layer.setFusedActivation(act);
      set(layer.weight(), w);
      set(layer.bias(), b);
      layer.forward(new Tensor[] {xt}, yt, true);
      layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
      assertEquals(0f, ChannelPadding.maxAbs(yt), "padding channels of y");
      assertEquals(0f, ChannelPadding.maxAbs(dxt), "padding channels of dx");
      return new float[][] {nchw(yt), nchw(dxt),
          layer.parameters().get(0).grad().toFloatArray(), layer.parameters().get(1).grad().toFloatArray()};
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void everyAlgorithmInEveryLayoutMatchesTheReference(Reference64.Conv p) {
    Rng rng = new Rng(p.hashCode() * 17L + 3);
    double[] x = randomFloats(rng, p.n() * p.c() * p.h() * p.w());
    double[] w = randomFloats(rng, p.oc() * p.cg() * p.kh() * p.kw());
    double[] b = randomFloats(rng, p.oc());
    double[] dy = randomFloats(rng, p.n() * p.oc() * p.oh() * p.ow());
    ConvGeometry g = geometry(p);
    Gemm.Variant variantBefore = Gemm.variant();
    int threadsBefore = Parallel.get().threads();
    int pairs = 0;
    try {
      for (FusedActivation act : FusedActivation.values()) {
        double[] y = Reference64.conv(p, x, w, b);
        double[] dz = dy.clone();
        if (act == FusedActivation.RELU) {
          for (int i = 0; i < y.length; i++) {
            dz[i] = y[i] > 0 ? dy[i] : 0;
            y[i] = Math.max(y[i], 0);
          }
        }
        double[][] grads = Reference64.convBackward(p, x, w, dz);
        for (Layout layout : CHANNEL_LAYOUTS) {
          for (Conv2d.Algorithm algorithm : Conv2d.Algorithm.values()) {
            if (!Conv2d.supports(algorithm, layout, g)) {
              continue;
            }
            pairs++;
            for (Gemm.Variant variant : Gemm.Variant.values()) {
              for (int threads : new int[] {1, 3}) {
                Gemm.setVariant(variant);
                Parallel.setThreads(threads);
                float[][] got = run(p, algorithm, layout, act, x, w, b, dy);
                String what = algorithm + "/" + layout + "/" + act + "/" + variant + "/" + threads + " " + p;
                assertClose(what + " y", y, got[0], FLOAT_TOL);
                assertClose(what + " dx", grads[0], got[1], FLOAT_TOL);
                assertClose(what + " dw", grads[1], got[2], FLOAT_TOL);
                assertClose(what + " db", grads[2], got[3], FLOAT_TOL);
              }
            }
          }
        }
      }
    } finally {
      Gemm.setVariant(variantBefore);
      Parallel.setThreads(threadsBefore);
    }
    // Direct runs in both layouts, and NCHWc always has spatial pack or depthwise besides.
    assertTrue(pairs >= 2 * 3, "pairs tested: " + pairs);
  }

  @Test
  void theMatrixIsWhatTheKernelsRun() {
    ConvGeometry plain = ConvGeometry.of(20, 9, 9, 37, 3, 1, 1, 1, 1);
    ConvGeometry depthwise = ConvGeometry.of(24, 9, 9, 24, 3, 1, 1, 1, 24);
    ConvGeometry grouped = ConvGeometry.of(8, 9, 9, 8, 3, 1, 1, 1, 2);
    assertTrue(Conv2d.supports(Conv2d.Algorithm.SPATIAL_PACK, Layout.NCHWC, plain));
    assertTrue(!Conv2d.supports(Conv2d.Algorithm.SPATIAL_PACK, Layout.NCHW, plain));
    assertTrue(!Conv2d.supports(Conv2d.Algorithm.SPATIAL_PACK, Layout.NCHWC, grouped));
    assertTrue(Conv2d.supports(Conv2d.Algorithm.IM2COL, Layout.NHWC, grouped));
    assertTrue(!Conv2d.supports(Conv2d.Algorithm.IM2COL, Layout.NCHWC, plain));
    assertTrue(!Conv2d.supports(Conv2d.Algorithm.WINOGRAD, Layout.NHWC, plain));
    assertTrue(Conv2d.supports(Conv2d.Algorithm.DEPTHWISE, Layout.NCHWC, depthwise));
    assertEquals(Conv2d.Algorithm.SPATIAL_PACK, Conv2d.defaultAlgorithm(Layout.NCHWC, plain));
    assertEquals(Conv2d.Algorithm.DEPTHWISE, Conv2d.defaultAlgorithm(Layout.NHWC, depthwise));
    assertEquals(Conv2d.Algorithm.DIRECT, Conv2d.defaultAlgorithm(Layout.NCHWC, grouped));
  }
}
