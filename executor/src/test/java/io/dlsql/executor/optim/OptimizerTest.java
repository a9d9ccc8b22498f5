package io.dlsql.executor.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Optimizers against the PyTorch update rules written out in double precision. */
class OptimizerTest {
  private static final double[] START = {0.5, -1.25, 2.0, 0.0, -0.3};
  private static final double[][] GRADS = {
    {0.1, -0.2, 0.3, 0.0, 1.0}, {-0.4, 0.1, 0.2, 0.5, -1.0}, {0.05, 0.05, -0.3, 0.2, 0.7}, {1.0, -1.0, 0.5, -0.5, 0.0}
  };

  private static float[] run(Optimizer opt, double lr) {
    try (Tensor w = Tensor.zeros(START.length); Tensor g = Tensor.zeros(START.length)) {
      for (int i = 0; i < START.length; i++) {
        w.setFlat(i, (float) START[i]);
      }
      List<Parameter> params = List.of(new Parameter("p", w, g));
      for (double[] grad : GRADS) {
        for (int i = 0; i < grad.length; i++) {
          g.setFlat(i, (float) grad[i]);
        }
        opt.step(params, lr);
      }
      opt.close();
      return w.toFloatArray();
    }
  }

  private static void assertNear(double[] expected, float[] actual) {
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-6 * (1 + Math.abs(expected[i])), "element " + i);
    }
  }

  private static double[] sgd(double lr, double momentum, boolean nesterov, double wd) {
    double[] p = START.clone();
    double[] buf = new double[p.length];
    for (int t = 0; t < GRADS.length; t++) {
      for (int i = 0; i < p.length; i++) {
        double d = GRADS[t][i] + wd * p[i];
        if (momentum != 0) {
          buf[i] = t == 0 ? d : momentum * buf[i] + d;
          d = nesterov ? d + momentum * buf[i] : buf[i];
        }
        p[i] -= lr * d;
      }
    }
    return p;
  }

  private static double[] adam(double lr, double wd, boolean decoupled) {
    double b1 = 0.9;
    double b2 = 0.999;
    double eps = 1e-8;
    double[] p = START.clone();
    double[] m = new double[p.length];
    double[] v = new double[p.length];
    for (int t = 1; t <= GRADS.length; t++) {
      for (int i = 0; i < p.length; i++) {
        double g = GRADS[t - 1][i];
        if (decoupled) {
          p[i] *= 1 - lr * wd;
        } else {
          g += wd * p[i];
        }
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        double mhat = m[i] / (1 - Math.pow(b1, t));
        double vhat = v[i] / (1 - Math.pow(b2, t));
        p[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
      }
    }
    return p;
  }

  @Test
  void sgdVariants() {
    assertNear(sgd(0.1, 0, false, 0), run(new Sgd(0, false, 0), 0.1));
    assertNear(sgd(0.1, 0.9, false, 0), run(new Sgd(0.9, false, 0), 0.1));
    assertNear(sgd(0.05, 0.9, true, 1e-2), run(new Sgd(0.9, true, 1e-2), 0.05));
    assertNear(sgd(0.05, 0.5, false, 0.1), run(new Sgd(0.5, false, 0.1), 0.05));
  }

  @Test
  void adamAndAdamW() {
    assertNear(adam(0.01, 0, false), run(new Adam(0.9, 0.999, 1e-8, 0, false), 0.01));
    assertNear(adam(0.01, 0.1, false), run(new Adam(0.9, 0.999, 1e-8, 0.1, false), 0.01));
    assertNear(adam(0.01, 0.1, true), run(new Adam(0.9, 0.999, 1e-8, 0.1, true), 0.01));
  }

  @Test
  void stateExportAndLoadContinuesExactly() {
    try (Tensor w = Tensor.zeros(5); Tensor g = Tensor.zeros(5);
        Tensor w2 = Tensor.zeros(5); Tensor g2 = Tensor.zeros(5)) {
      List<Parameter> a = List.of(new Parameter("p", w, g));
      List<Parameter> b = List.of(new Parameter("p", w2, g2));
      g.fill(0.3f);
      g2.fill(0.3f);
      Adam first = new Adam(0.9, 0.999, 1e-8, 0, true);
      first.step(a, 0.1);
      Adam second = new Adam(0.9, 0.999, 1e-8, 0, true);
      w2.copyFrom(w);
      second.loadState(first.state(), first.metadata());
      first.step(a, 0.1);
      second.step(b, 0.1);
      assertArrayEquals(w.toFloatArray(), w2.toFloatArray());
      assertEquals("2", second.metadata().get("step"));
      first.close();
      second.close();
    }
  }

  @Test
  void clippingByGlobalNorm() {
    try (Tensor w = Tensor.zeros(2); Tensor g = Tensor.of(new float[] {3, 0}, 2);
        Tensor w2 = Tensor.zeros(1); Tensor g2 = Tensor.of(new float[] {4}, 1)) {
      List<Parameter> params = List.of(new Parameter("a", w, g), new Parameter("b", w2, g2));
      assertEquals(5.0, GradientClipping.clipByGlobalNorm(params, 1.0), 1e-9);
      assertEquals(0.6, g.getFlat(0), 1e-6);
      assertEquals(0.8, g2.getFlat(0), 1e-6);
      assertEquals(1.0, GradientClipping.clipByGlobalNorm(params, 2.0), 1e-6);
      assertEquals(0.6, g.getFlat(0), 1e-6, "below the limit nothing changes");
    }
  }

  @Test
  void schedules() {
    assertEquals(0.1, new LearningRateSchedule.Constant(0.1).rate(7, 3, 10));
    LearningRateSchedule step = new LearningRateSchedule.Step(0.1, 2, 0.5);
    assertEquals(0.1, step.rate(1, 0, 10), 1e-12);
    assertEquals(0.05, step.rate(2, 0, 10), 1e-12);
    assertEquals(0.025, step.rate(5, 9, 10), 1e-12);
    LearningRateSchedule cosine = new LearningRateSchedule.Cosine(0.2, 4);
    assertEquals(0.2, cosine.rate(0, 5, 10), 1e-12);
    assertEquals(0.1, cosine.rate(2, 0, 10), 1e-12);
    LearningRateSchedule warm = new LearningRateSchedule.Warmup(2, new LearningRateSchedule.Cosine(0.2, 4));
    assertEquals(0.2 / 20, warm.rate(0, 0, 10), 1e-12);
    assertEquals(0.2 * 15 / 20, warm.rate(1, 4, 10), 1e-12);
    assertEquals(0.2, warm.rate(2, 0, 10), 1e-12);
    assertEquals(0.1, warm.rate(4, 0, 10), 1e-12);
  }
}
