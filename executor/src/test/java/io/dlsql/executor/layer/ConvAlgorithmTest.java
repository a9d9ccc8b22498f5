package io.dlsql.executor.layer;

import static io.dlsql.executor.layer.Checks.assertClose;
import static io.dlsql.executor.layer.Checks.randomFloats;
import static io.dlsql.executor.layer.Checks.set;
import static io.dlsql.executor.layer.Checks.tensor;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every convolution algorithm, with and without a fused ReLU, with the Vector API kernels and
 * with their scalar twins, on one and on three threads: forward, input gradient and weight and
 * bias gradients against the float64 reference and against variant 0 ({@link
 * Conv2d.Algorithm#DIRECT}) on fresh random inputs.
 */
class ConvAlgorithmTest {
  /** float32 vs float64, relative to the result's scale. */
  private static final double FLOAT_TOL = 2e-5;

  static List<Reference64.Conv> cases() {
    List<Reference64.Conv> out = new ArrayList<>(LayerReferenceTest.convCases());
    // n, c, h, w, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups
    // 32x32 outputs: one image per GEMM, so a chunk runs several blocks and accumulates.
    out.add(new Reference64.Conv(3, 2, 32, 32, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    // 7x7 maps with many images per GEMM, 1x1 stride-2 projection, 5x5 'same'.
    out.add(new Reference64.Conv(5, 8, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(4, 16, 8, 8, 32, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1));
    out.add(new Reference64.Conv(3, 4, 11, 9, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1));
    // Implicit GEMM: rows wider than a vector with a ragged tail, 'valid' (no padding, so no gap
    // between padded rows), odd channel counts, and more images than one weight-gradient group.
    out.add(new Reference64.Conv(3, 5, 19, 21, 9, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1));
    out.add(new Reference64.Conv(2, 3, 17, 18, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(70, 2, 3, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    // Strided implicit GEMM: 3x3 stride 2 on even and odd (ragged) sizes, padding 0 and 1, rows
    // wider than two vectors, 1x1 stride 2 with odd sizes (three phases of dx without taps), 5x5
    // (three taps in phase 0), an even kernel with asymmetric padding, more bottom than top padding,
    // and small maps stacked with a short last stack, in one group (70 images) or one group per
    // stack (40 channels).
    out.add(new Reference64.Conv(3, 5, 12, 12, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(3, 4, 13, 11, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(2, 3, 9, 10, 5, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1));
    out.add(new Reference64.Conv(2, 3, 40, 37, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(3, 6, 9, 7, 10, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1));
    out.add(new Reference64.Conv(2, 3, 6, 6, 4, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(2, 3, 11, 12, 4, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 1));
    out.add(new Reference64.Conv(2, 3, 8, 9, 4, 2, 3, 2, 2, 0, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(1, 2, 7, 7, 3, 3, 3, 2, 2, 0, 0, 2, 2, 1, 1, 1));
    out.add(new Reference64.Conv(70, 2, 7, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(37, 40, 14, 14, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    // Implicit GEMM's weight gradient with output channels in the lanes (64 taps or more): tiles
    // of 4, 2 or 1 channel vectors by 6, 12 or 24 taps, the last block short: 64 channels and 72
    // taps, 48 = 2 + 1 vectors with 63 taps, 70 = 4 + 1 vectors (the last padded) with 81, 32 with
    // 75 (5x5); 7x7 maps stacked 8 to a unit with a short last stack over two groups, 14x14 over
    // two groups. Below 64 taps or 17 channels it runs on grid columns: 36 taps, and 28x28 maps in
    // more than one group.
    out.add(new Reference64.Conv(2, 8, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(2, 7, 6, 5, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(2, 9, 7, 7, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(2, 3, 6, 6, 32, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1));
    out.add(new Reference64.Conv(20, 8, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(12, 8, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(3, 4, 7, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(12, 2, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    // Implicit GEMM's forward and input gradient with output channels in the lanes (stacked small
    // maps, 64 channels): both, with a short last stack and a ragged last position tile (3 x 5 x 5);
    // only the input gradient (16 output channels, 6 x 7); the forward above (20 x 8 x 7 x 7).
    out.add(new Reference64.Conv(3, 64, 5, 5, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(5, 64, 6, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
    // Strided implicit GEMM on larger maps (one image per stack, odd width; an even kernel with
    // more padding at the bottom and right, odd height).
    out.add(new Reference64.Conv(2, 2, 64, 62, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(1, 2, 65, 66, 3, 4, 4, 2, 2, 1, 1, 2, 2, 1, 1, 1));
    // Strided implicit GEMM's forward with output channels in the lanes (64 channels, small maps):
    // a short stack and a ragged last tile of positions (6 x 5 per image).
    out.add(new Reference64.Conv(5, 3, 14, 13, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    out.add(new Reference64.Conv(3, 4, 11, 10, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1));
    return out;
  }

  static ConvGeometry geometry(Reference64.Conv p) {
    return new ConvGeometry(p.c(), p.h(), p.w(), p.oc(), p.kh(), p.kw(), p.sh(), p.sw(), p.pt(),
        p.pl(), p.dh(), p.dw(), p.groups(), p.oh(), p.ow());
  }

  /** Forward output and the three gradients of one layer run: {y, dx, dw, db}. */
  private static float[][] run(Reference64.Conv p, Conv2d.Algorithm algorithm, FusedActivation act,
      double[] x, double[] w, double[] b, double[] dy) {
    try (Conv2d layer = new Conv2d("conv", geometry(p), true);
        Tensor xt = tensor(x, p.n(), p.c(), p.h(), p.w());
        Tensor yt = Tensor.zeros(p.n(), p.oc(), p.oh(), p.ow());
        Tensor dyt = tensor(dy, p.n(), p.oc(), p.oh(), p.ow());
        Tensor dxt = Tensor.zeros(p.n(), p.c(), p.h(), p.w())) {
      layer.setAlgorithm(algorithm);
      layer.setFusedActivation(act);
      set(layer.weight(), w);
      set(layer.bias(), b);
      layer.forward(new Tensor[] {xt}, yt, true);
      layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
      return new float[][] {yt.toFloatArray(), dxt.toFloatArray(),
          layer.parameters().get(0).grad().toFloatArray(), layer.parameters().get(1).grad().toFloatArray()};
    }
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void everyAlgorithmMatchesTheReferences(Reference64.Conv p) {
    Rng rng = new Rng(p.hashCode() * 31L + 7);
    double[] x = randomFloats(rng, p.n() * p.c() * p.h() * p.w());
    double[] w = randomFloats(rng, p.oc() * p.cg() * p.kh() * p.kw());
    double[] b = randomFloats(rng, p.oc());
    double[] dy = randomFloats(rng, p.n() * p.oc() * p.oh() * p.ow());
    ConvGeometry g = geometry(p);
    Gemm.Variant variantBefore = Gemm.variant();
    int threadsBefore = Parallel.get().threads();
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
        Gemm.setVariant(Gemm.Variant.REFERENCE);
        Parallel.setThreads(1);
        float[][] direct = run(p, Conv2d.Algorithm.DIRECT, act, x, w, b, dy);
        for (Conv2d.Algorithm algorithm : Conv2d.Algorithm.values()) {
          if (!Conv2d.supports(algorithm, g)) {
            continue;
          }
          for (Gemm.Variant variant : Gemm.Variant.values()) {
            for (int threads : new int[] {1, 3}) {
              Gemm.setVariant(variant);
              Parallel.setThreads(threads);
              float[][] got = run(p, algorithm, act, x, w, b, dy);
              String what = algorithm + "/" + act + "/" + variant + "/" + threads + " " + p;
              double tol = FLOAT_TOL * Conv2d.accuracyFactor(algorithm);
              assertClose(what + " y", y, got[0], tol);
              assertClose(what + " dx", grads[0], got[1], tol);
              assertClose(what + " dw", grads[1], got[2], tol);
              assertClose(what + " db", grads[2], got[3], tol);
              assertClose(what + " y vs direct", toDouble(direct[0]), got[0], tol);
              assertClose(what + " dx vs direct", toDouble(direct[1]), got[1], tol);
              assertClose(what + " dw vs direct", toDouble(direct[2]), got[2], tol);
            }
          }
        }
      }
    } finally {
      Gemm.setVariant(variantBefore);
      Parallel.setThreads(threadsBefore);
    }
  }
}
