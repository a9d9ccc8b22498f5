package io.dlsql.executor.layer;

import static io.dlsql.executor.layer.Checks.assertClose;
import static io.dlsql.executor.layer.Checks.dot;
import static io.dlsql.executor.layer.Checks.numericGradient;
import static io.dlsql.executor.layer.Checks.randomFloats;
import static io.dlsql.executor.layer.Checks.set;
import static io.dlsql.executor.layer.Checks.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.graph.Op;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every layer's float32 forward and backward against the float64 reference, and the reference's
 * gradients against central differences of its own forward.
 */
class LayerReferenceTest {
  /** float32 vs float64, relative to the result's scale: sums of up to a few hundred terms. */
  private static final double FLOAT_TOL = 2e-5;
  /** Reference gradient vs central differences in double. */
  private static final double FD_TOL = 1e-6;
  private static final double FD_STEP = 1e-5;

  static List<Reference64.Conv> convCases() {
    return List.of(
        // n, c, h, w, oc, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups
        new Reference64.Conv(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
        new Reference64.Conv(3, 4, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2),
        new Reference64.Conv(2, 2, 8, 7, 3, 3, 2, 2, 1, 0, 1, 0, 1, 2, 1, 1),
        new Reference64.Conv(3, 4, 7, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4),
        new Reference64.Conv(2, 4, 5, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4),
        new Reference64.Conv(2, 3, 5, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1),
        new Reference64.Conv(2, 3, 6, 6, 2, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1),
        new Reference64.Conv(2, 1, 9, 9, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1),
        // 'same' with an even kernel: one more row/column of padding at the bottom/right
        new Reference64.Conv(1, 2, 6, 5, 3, 4, 2, 1, 1, 1, 0, 2, 1, 1, 1, 1),
        new Reference64.Conv(2, 2, 9, 9, 2, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1));
  }

  private static ConvGeometry geometry(Reference64.Conv p) {
    return new ConvGeometry(p.c(), p.h(), p.w(), p.oc(), p.kh(), p.kw(), p.sh(), p.sw(), p.pt(),
        p.pl(), p.dh(), p.dw(), p.groups(), p.oh(), p.ow());
  }

  @ParameterizedTest
  @MethodSource("convCases")
  void convolutionMatchesReference(Reference64.Conv p) {
    Rng rng = new Rng(p.hashCode());
    double[] x = randomFloats(rng, p.n() * p.c() * p.h() * p.w());
    double[] w = randomFloats(rng, p.oc() * p.cg() * p.kh() * p.kw());
    double[] b = randomFloats(rng, p.oc());
    double[] dy = randomFloats(rng, p.n() * p.oc() * p.oh() * p.ow());
    double[] y = Reference64.conv(p, x, w, b);
    double[][] grads = Reference64.convBackward(p, x, w, dy);
    for (Conv2d.Algorithm algorithm : Conv2d.Algorithm.values()) {
      if (!Conv2d.supports(algorithm, geometry(p))) {
        continue;
      }
      for (int threads : new int[] {1, 3}) {
        int before = Parallel.get().threads();
        Parallel.setThreads(threads);
        try (Conv2d layer = new Conv2d("conv", geometry(p), true);
            Tensor xt = tensor(x, p.n(), p.c(), p.h(), p.w());
            Tensor yt = Tensor.zeros(p.n(), p.oc(), p.oh(), p.ow());
            Tensor dyt = tensor(dy, p.n(), p.oc(), p.oh(), p.ow());
            Tensor dxt = Tensor.zeros(p.n(), p.c(), p.h(), p.w())) {
          layer.setAlgorithm(algorithm);
          set(layer.weight(), w);
          set(layer.bias(), b);
          layer.forward(new Tensor[] {xt}, yt, true);
          String what = algorithm + "/" + threads + " " + p;
          assertClose(what + " y", y, yt.toFloatArray(), FLOAT_TOL);
          layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
          assertClose(what + " dx", grads[0], dxt.toFloatArray(), FLOAT_TOL);
          assertClose(what + " dw", grads[1], layer.parameters().get(0).grad().toFloatArray(), FLOAT_TOL);
          assertClose(what + " db", grads[2], layer.parameters().get(1).grad().toFloatArray(), FLOAT_TOL);
          // Without an input gradient (first layer) the weight gradients must not change.
          layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {null});
          assertClose(what + " dw, no dx", grads[1], layer.parameters().get(0).grad().toFloatArray(), FLOAT_TOL);
        } finally {
          Parallel.setThreads(before);
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("convCases")
  void convolutionReferenceGradientsMatchCentralDifferences(Reference64.Conv p) {
    Rng rng = new Rng(p.hashCode() + 1);
    double[] x = Checks.random(rng, p.n() * p.c() * p.h() * p.w());
    double[] w = Checks.random(rng, p.oc() * p.cg() * p.kh() * p.kw());
    double[] b = Checks.random(rng, p.oc());
    double[] dy = Checks.random(rng, p.n() * p.oc() * p.oh() * p.ow());
    double[][] grads = Reference64.convBackward(p, x, w, dy);
    assertClose("dx", numericGradient(v -> dot(Reference64.conv(p, v, w, b), dy), x, FD_STEP), grads[0], FD_TOL);
    assertClose("dw", numericGradient(v -> dot(Reference64.conv(p, x, v, b), dy), w, FD_STEP), grads[1], FD_TOL);
    assertClose("db", numericGradient(v -> dot(Reference64.conv(p, x, w, v), dy), b, FD_STEP), grads[2], FD_TOL);
  }

  static List<Reference64.Pool> poolCases() {
    return List.of(
        // planes, h, w, kh, kw, sh, sw, ph, pw, max
        new Reference64.Pool(6, 8, 8, 2, 2, 2, 2, 0, 0, true),
        // the 2x2 stride-2 kernel: rows of 14 (one masked vector) and odd sizes (last row/column unread)
        new Reference64.Pool(4, 28, 28, 2, 2, 2, 2, 0, 0, true),
        new Reference64.Pool(4, 7, 9, 2, 2, 2, 2, 0, 0, true),
        new Reference64.Pool(6, 7, 9, 3, 3, 2, 2, 1, 1, true),
        new Reference64.Pool(4, 5, 6, 3, 2, 1, 2, 1, 0, true),
        new Reference64.Pool(6, 8, 8, 2, 2, 2, 2, 0, 0, false),
        new Reference64.Pool(6, 7, 9, 3, 3, 2, 2, 1, 1, false),
        new Reference64.Pool(4, 5, 6, 3, 2, 1, 2, 1, 0, false));
  }

  @ParameterizedTest
  @MethodSource("poolCases")
  void poolingMatchesReference(Reference64.Pool p) {
    Rng rng = new Rng(p.hashCode());
    int n = 2;
    int c = p.planes() / n;
    double[] x = randomFloats(rng, p.planes() * p.h() * p.w());
    double[] dy = randomFloats(rng, p.planes() * p.oh() * p.ow());
    int[] in = {c, p.h(), p.w()};
    int[] out = {c, p.oh(), p.ow()};
    try (Pool2d layer = new Pool2d("pool", in, out, p.max(), p.kh(), p.kw(), p.sh(), p.sw(), p.ph(), p.pw());
        Tensor xt = tensor(x, n, c, p.h(), p.w());
        Tensor yt = Tensor.zeros(n, c, p.oh(), p.ow());
        Tensor dyt = tensor(dy, n, c, p.oh(), p.ow());
        Tensor dxt = Tensor.zeros(n, c, p.h(), p.w())) {
      layer.forward(new Tensor[] {xt}, yt, false);
      assertClose("y (evaluation) " + p, Reference64.pool(p, x), yt.toFloatArray(), FLOAT_TOL);
      layer.forward(new Tensor[] {xt}, yt, true);
      assertClose("y " + p, Reference64.pool(p, x), yt.toFloatArray(), FLOAT_TOL);
      layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
      assertClose("dx " + p, Reference64.poolBackward(p, x, dy), dxt.toFloatArray(), FLOAT_TOL);
    }
    double[] xd = Checks.random(rng, x.length);
    assertClose("fd " + p, numericGradient(v -> dot(Reference64.pool(p, v), dy), xd, FD_STEP),
        Reference64.poolBackward(p, xd, dy), FD_TOL);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void denseMatchesReference(boolean bias) {
    Rng rng = new Rng(bias ? 11 : 12);
    int n = 13;
    int f = 37;
    int u = 11;
    double[] x = randomFloats(rng, n * f);
    double[] w = randomFloats(rng, u * f);
    double[] b = bias ? randomFloats(rng, u) : null;
    double[] dy = randomFloats(rng, n * u);
    double[][] grads = Reference64.denseBackward(n, f, u, x, w, dy);
    try (Dense layer = new Dense("fc", f, u, bias);
        Tensor xt = tensor(x, n, f);
        Tensor yt = Tensor.zeros(n, u);
        Tensor dyt = tensor(dy, n, u);
        Tensor dxt = Tensor.zeros(n, f)) {
      set(layer.weight(), w);
      if (bias) {
        set(layer.bias(), b);
      }
      layer.forward(new Tensor[] {xt}, yt, true);
      assertClose("y", Reference64.dense(n, f, u, x, w, b), yt.toFloatArray(), FLOAT_TOL);
      layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
      assertClose("dx", grads[0], dxt.toFloatArray(), FLOAT_TOL);
      assertClose("dw", grads[1], layer.parameters().get(0).grad().toFloatArray(), FLOAT_TOL);
      if (bias) {
        assertClose("db", grads[2], layer.parameters().get(1).grad().toFloatArray(), FLOAT_TOL);
      }
    }
    double[] bd = b == null ? new double[u] : b;
    assertClose("fd dx", numericGradient(v -> dot(Reference64.dense(n, f, u, v, w, bd), dy), x.clone(), FD_STEP), grads[0], FD_TOL);
    assertClose("fd dw", numericGradient(v -> dot(Reference64.dense(n, f, u, x, v, bd), dy), w.clone(), FD_STEP), grads[1], FD_TOL);
    assertClose("fd db", numericGradient(v -> dot(Reference64.dense(n, f, u, x, w, v), dy), bd.clone(), FD_STEP), grads[2], FD_TOL);
  }

  @ParameterizedTest
  @ValueSource(strings = {"relu", "leaky", "sigmoid", "tanh"})
  void activationsMatchReference(String kind) {
    Op op = switch (kind) {
      case "relu" -> Op.RELU;
      case "leaky" -> Op.LEAKY_RELU;
      case "sigmoid" -> Op.SIGMOID;
      default -> Op.TANH;
    };
    double slope = 0.1;
    Rng rng = new Rng(kind.hashCode());
    int[] shape = {3, 5, 7};
    int n = 2;
    int size = n * 3 * 5 * 7;
    double[] x = randomFloats(rng, size);
    for (int i = 0; i < size; i++) {
      x[i] = (float) (x[i] * 4);
    }
    double[] dy = randomFloats(rng, size);
    double[] y = new double[size];
    double[] dx = new double[size];
    for (int i = 0; i < size; i++) {
      y[i] = Reference64.activation(kind, slope, x[i]);
      dx[i] = dy[i] * Reference64.activationDerivative(kind, slope, x[i]);
    }
    try (Activation layer = new Activation("act", shape, op, slope);
        Tensor xt = tensor(x, n, 3, 5, 7);
        Tensor yt = Tensor.zeros(n, 3, 5, 7);
        Tensor dyt = tensor(dy, n, 3, 5, 7);
        Tensor dxt = Tensor.zeros(n, 3, 5, 7)) {
      layer.forward(new Tensor[] {xt}, yt, true);
      assertClose("y", y, yt.toFloatArray(), 1e-6);
      layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
      assertClose("dx", dx, dxt.toFloatArray(), 1e-6);
    }
    double[] xd = Checks.random(rng, 20);
    double[] dyd = Checks.random(rng, 20);
    double[] analytic = new double[20];
    for (int i = 0; i < 20; i++) {
      analytic[i] = dyd[i] * Reference64.activationDerivative(kind, slope, xd[i]);
    }
    assertClose("fd", numericGradient(v -> {
      double s = 0;
      for (int i = 0; i < v.length; i++) {
        s += Reference64.activation(kind, slope, v[i]) * dyd[i];
      }
      return s;
    }, xd, FD_STEP), analytic, FD_TOL);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void batchNormMatchesReference(int rank) {
    Rng rng = new Rng(21 + rank);
    int n = 5;
    int c = 3;
    int pixels = rank == 3 ? 4 * 5 : 1;
    int[] shape = rank == 3 ? new int[] {c, 4, 5} : new int[] {c};
    int[] batched = rank == 3 ? new int[] {n, c, 4, 5} : new int[] {n, c};
    double eps = 1e-5;
    double momentum = 0.1;
    double[] x = randomFloats(rng, n * c * pixels);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (x[i] * 3 + 1);
    }
    double[] gamma = randomFloats(rng, c);
    double[] beta = randomFloats(rng, c);
    double[] dy = randomFloats(rng, x.length);
    double[][] grads = Reference64.batchNormBackward(n, c, pixels, x, gamma, eps, dy);
    try (BatchNorm2d layer = new BatchNorm2d("bn", shape, eps, momentum);
        Tensor xt = tensor(x, batched);
        Tensor yt = Tensor.zeros(batched);
        Tensor dyt = tensor(dy, batched);
        Tensor dxt = Tensor.zeros(batched)) {
      set(layer.parameters().get(0).value(), gamma);
      set(layer.parameters().get(1).value(), beta);
      layer.forward(new Tensor[] {xt}, yt, true);
      assertClose("y", Reference64.batchNorm(n, c, pixels, x, gamma, beta, eps), yt.toFloatArray(), FLOAT_TOL);
      layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
      assertClose("dx", grads[0], dxt.toFloatArray(), 1e-4);
      assertClose("dgamma", grads[1], layer.parameters().get(0).grad().toFloatArray(), FLOAT_TOL);
      assertClose("dbeta", grads[2], layer.parameters().get(1).grad().toFloatArray(), FLOAT_TOL);
      // Running statistics: (1 - m) * initial + m * batch, with the unbiased variance.
      double[] runMean = new double[c];
      double[] runVar = new double[c];
      for (int ch = 0; ch < c; ch++) {
        double[] st = Reference64.stats(n, c, pixels, x, ch);
        int m = n * pixels;
        runMean[ch] = momentum * st[0];
        runVar[ch] = (1 - momentum) + momentum * st[1] * m / (m - 1);
      }
      assertClose("running_mean", runMean, layer.buffers().get("bn.running_mean").toFloatArray(), 1e-5);
      assertClose("running_var", runVar, layer.buffers().get("bn.running_var").toFloatArray(), 1e-5);
      // Evaluation mode normalises with the running statistics, and its gradient is affine.
      layer.forward(new Tensor[] {xt}, yt, false);
      float[] yEval = yt.toFloatArray();
      layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
      float[] dxEval = dxt.toFloatArray();
      for (int s = 0; s < n; s++) {
        for (int ch = 0; ch < c; ch++) {
          for (int i = 0; i < pixels; i++) {
            int at = (s * c + ch) * pixels + i;
            double inv = 1 / Math.sqrt(runVar[ch] + eps);
            assertEquals(gamma[ch] * (x[at] - runMean[ch]) * inv + beta[ch], yEval[at], 1e-5);
            assertEquals(gamma[ch] * inv * dy[at], dxEval[at], 1e-5);
          }
        }
      }
    }
    double[] xd = Checks.random(rng, x.length);
    double[][] gd = Reference64.batchNormBackward(n, c, pixels, xd, gamma, eps, dy);
    assertClose("fd dx", numericGradient(v -> dot(Reference64.batchNorm(n, c, pixels, v, gamma, beta, eps), dy), xd, FD_STEP), gd[0], 1e-5);
    assertClose("fd dgamma", numericGradient(v -> dot(Reference64.batchNorm(n, c, pixels, xd, v, beta, eps), dy), gamma.clone(), FD_STEP), gd[1], FD_TOL);
    assertClose("fd dbeta", numericGradient(v -> dot(Reference64.batchNorm(n, c, pixels, xd, gamma, v, eps), dy), beta.clone(), FD_STEP), gd[2], FD_TOL);
  }

  @Test
  void globalAveragePoolingFlattenAddAndConcat() {
    Rng rng = new Rng(31);
    int n = 2;
    double[] a = randomFloats(rng, n * 3 * 4 * 5);
    double[] b = randomFloats(rng, n * 3 * 4 * 5);
    double[] c = randomFloats(rng, n * 2 * 4 * 5);
    try (Tensor at = tensor(a, n, 3, 4, 5);
        Tensor bt = tensor(b, n, 3, 4, 5);
        Tensor ct = tensor(c, n, 2, 4, 5);
        GlobalAvgPool gap = new GlobalAvgPool("gap", new int[] {3, 4, 5});
        Tensor gy = Tensor.zeros(n, 3);
        Tensor gdy = tensor(new double[] {1, 2, 3, 4, 5, 6}, n, 3);
        Tensor gdx = Tensor.zeros(n, 3, 4, 5);
        Add add = new Add("add", new int[] {3, 4, 5});
        Tensor sum = Tensor.zeros(n, 3, 4, 5);
        Tensor da = Tensor.zeros(n, 3, 4, 5);
        Tensor db = Tensor.zeros(n, 3, 4, 5);
        Concat cat = new Concat("cat", new int[][] {{3, 4, 5}, {2, 4, 5}}, new int[] {5, 4, 5});
        Tensor joined = Tensor.zeros(n, 5, 4, 5);
        Tensor dc = Tensor.zeros(n, 2, 4, 5);
        Flatten flat = new Flatten("flat", 60);
        Tensor flatY = Tensor.zeros(n, 60)) {
      gap.forward(new Tensor[] {at}, gy, true);
      gap.backward(new Tensor[] {at}, gy, gdy, new Tensor[] {gdx});
      for (int s = 0; s < n; s++) {
        for (int ch = 0; ch < 3; ch++) {
          double mean = 0;
          for (int i = 0; i < 20; i++) {
            mean += a[(s * 3 + ch) * 20 + i] / 20;
          }
          assertEquals(mean, gy.get(s, ch), 1e-6);
          assertEquals(gdy.get(s, ch) / 20, gdx.get(s, ch, 1, 2), 1e-7);
        }
      }
      add.forward(new Tensor[] {at, bt}, sum, true);
      add.backward(new Tensor[] {at, bt}, sum, bt, new Tensor[] {da, db});
      for (int i = 0; i < a.length; i++) {
        assertEquals((float) a[i] + (float) b[i], sum.getFlat(i));
        assertEquals((float) b[i], da.getFlat(i));
        assertEquals((float) b[i], db.getFlat(i));
      }
      cat.forward(new Tensor[] {at, ct}, joined, true);
      assertEquals(at.get(1, 2, 3, 4), joined.get(1, 2, 3, 4));
      assertEquals(ct.get(1, 1, 3, 4), joined.get(1, 4, 3, 4));
      assertEquals(ct.get(0, 0, 0, 0), joined.get(0, 3, 0, 0));
      cat.backward(new Tensor[] {at, ct}, joined, joined, new Tensor[] {null, dc});
      assertArrayEquals(ct.toFloatArray(), dc.toFloatArray());
      flat.forward(new Tensor[] {at}, flatY, true);
      assertArrayEquals(at.toFloatArray(), flatY.toFloatArray());
    }
  }

  @Test
  void addWithFusedReluSendsTheMaskedGradientToEveryInputThatWantsOne() {
    Rng rng = new Rng(37);
    int n = 3;
    int[] shape = {5, 37, 41}; // several copy blocks per thread, and a ragged last one
    int size = n * 5 * 37 * 41;
    double[][] x = {randomFloats(rng, size), randomFloats(rng, size), randomFloats(rng, size)};
    double[] dy = randomFloats(rng, size);
    try (Add add = new Add("add", shape);
        Tensor a = tensor(x[0], n, 5, 37, 41);
        Tensor b = tensor(x[1], n, 5, 37, 41);
        Tensor c = tensor(x[2], n, 5, 37, 41);
        Tensor y = Tensor.zeros(n, 5, 37, 41);
        Tensor dyt = tensor(dy, n, 5, 37, 41);
        Tensor da = Tensor.zeros(n, 5, 37, 41);
        Tensor dc = Tensor.zeros(n, 5, 37, 41)) {
      add.setFusedActivation(io.dlsql.executor.kernel.elementwise.FusedActivation.RELU);
      add.forward(new Tensor[] {a, b, c}, y, true);
      add.backward(new Tensor[] {a, b, c}, y, dyt, new Tensor[] {da, null, dc});
      for (int i = 0; i < size; i++) {
        float sum = Math.max(0f, (float) x[0][i] + (float) x[1][i] + (float) x[2][i]);
        assertEquals(sum, y.getFlat(i), "y " + i);
        float g = sum > 0 ? (float) dy[i] : 0f;
        assertEquals(g, da.getFlat(i), "da " + i);
        assertEquals(g, dc.getFlat(i), "dc " + i);
      }
    }
  }

  @Test
  void dropoutZeroesAFractionAndScalesTheRest() {
    int n = 64;
    int f = 500;
    double p = 0.3;
    try (Dropout layer = new Dropout("drop", new int[] {f}, p);
        Tensor x = Tensor.zeros(n, f);
        Tensor y = Tensor.zeros(n, f);
        Tensor dy = Tensor.zeros(n, f);
        Tensor dx = Tensor.zeros(n, f)) {
      x.fill(2f);
      dy.fill(1f);
      layer.setSeed(5);
      layer.forward(new Tensor[] {x}, y, true);
      layer.backward(new Tensor[] {x}, y, dy, new Tensor[] {dx});
      int zeros = 0;
      float keep = (float) (2 / (1 - p));
      for (long i = 0; i < y.numel(); i++) {
        float v = y.getFlat(i);
        assertTrue(v == 0f || v == keep, "value " + v);
        assertEquals(v / 2, dx.getFlat(i), 1e-6, "backward uses the same mask");
        zeros += v == 0f ? 1 : 0;
      }
      double fraction = zeros / (double) y.numel();
      assertEquals(p, fraction, 0.02);
      float[] first = y.toFloatArray();
      layer.setSeed(5);
      layer.forward(new Tensor[] {x}, y, true);
      assertArrayEquals(first, y.toFloatArray(), "same seed, same mask");
      layer.forward(new Tensor[] {x}, y, false);
      assertArrayEquals(x.toFloatArray(), y.toFloatArray(), "identity in evaluation");
    }
  }

  @ParameterizedTest
  @ValueSource(doubles = {0, 0.1})
  void crossEntropyMatchesReference(double smoothing) {
    Rng rng = new Rng(41);
    int n = 7;
    int k = 5;
    double[] z = randomFloats(rng, n * k);
    for (int i = 0; i < z.length; i++) {
      z[i] = (float) (z[i] * 5);
    }
    int[] labels = {0, 4, 2, 2, 1, 3, 0};
    SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(smoothing);
    try (Tensor zt = tensor(z, n, k); Tensor gt = Tensor.zeros(n, k)) {
      double l = loss.forward(zt, labels, n, gt);
      assertEquals(Reference64.crossEntropy(n, k, z, labels, smoothing), l, 1e-9);
      double[] g = Reference64.crossEntropyBackward(n, k, z, labels, smoothing);
      assertClose("grad", g, gt.toFloatArray(), 1e-6);
      assertClose("fd", numericGradient(v -> Reference64.crossEntropy(n, k, v, labels, smoothing), z.clone(), FD_STEP), g, FD_TOL);
    }
    // Huge logits stay finite.
    try (Tensor big = Tensor.of(new float[] {1e30f, -1e30f, 0f}, 1, 3)) {
      assertEquals(0, loss.forward(big, new int[] {0}, 1, null), smoothing == 0 ? 1e-12 : 1e31);
      assertTrue(Double.isFinite(new SoftmaxCrossEntropy(0).forward(big, new int[] {2}, 1, null)));
    }
  }
}
