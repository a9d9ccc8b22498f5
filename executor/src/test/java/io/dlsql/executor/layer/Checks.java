package io.dlsql.executor.layer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.util.function.ToDoubleFunction;

/** Test helpers: random data, float/double conversion, tolerant comparison, central differences. */
final class Checks {
  private Checks() {}

  static double[] random(Rng rng, int n) {
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = rng.uniform(-1, 1);
    }
    return a;
  }

  /** Rounds to float first, so the float32 layer and the float64 reference see the same numbers. */
  static double[] randomFloats(Rng rng, int n) {
    double[] a = random(rng, n);
    for (int i = 0; i < n; i++) {
      a[i] = (float) a[i];
    }
    return a;
  }

  static Tensor tensor(double[] a, int... shape) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (float) a[i];
    }
    return Tensor.of(f, shape);
  }

  static void set(Tensor t, double[] a) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (float) a[i];
    }
    t.copyFrom(f);
  }

  /**
   * Asserts |actual - expected| <= tol * (|expected| + max|expected|) elementwise: relative to
   * each value and to the scale of the whole result, because float32 rounding of a sum is relative
   * to the magnitude of its terms, not of its (possibly cancelled) result.
   */
  static void assertClose(String what, double[] expected, float[] actual, double tol) {
    assertEquals(expected.length, actual.length, what + ": length");
    double scale = 0;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(actual[i] - expected[i]);
      if (!(err <= tol * (Math.abs(expected[i]) + scale) + 1e-30)) {
        fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i] + " (scale " + scale + ")");
      }
    }
  }

  static void assertClose(String what, double[] expected, double[] actual, double tol) {
    float[] f = new float[actual.length];
    double scale = 0;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs(actual[i] - expected[i]);
      if (!(err <= tol * (Math.abs(expected[i]) + scale) + 1e-30)) {
        fail(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i] + " (scale " + scale + ")");
      }
    }
  }

  /** Central differences of f at x: (f(x + h e_i) - f(x - h e_i)) / 2h for every i. */
  static double[] numericGradient(ToDoubleFunction<double[]> f, double[] x, double h) {
    double[] g = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double keep = x[i];
      x[i] = keep + h;
      double up = f.applyAsDouble(x);
      x[i] = keep - h;
      double down = f.applyAsDouble(x);
      x[i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
