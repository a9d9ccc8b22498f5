package io.dlsql.executor.kernel.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.IndexBuffer;
import io.dlsql.executor.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The 2x2 stride-2 max pooling kernel on its Vector API and scalar paths against a plain loop over
 * each window (first maximum in row order wins, NaN wins over numbers), on inputs full of ties and
 * with NaNs and infinities, for rows shorter than, equal to and longer than a vector and for odd
 * heights and widths; and each path's backward reading the other path's record.
 */
class MaxPool2x2Test {
  private final Gemm.Variant before = Gemm.variant();

  @AfterEach
  void restore() {
    Gemm.setVariant(before);
  }

  /** planes, height, width. */
  record Shape(int planes, int h, int w) {}

  static List<Shape> shapes() {
    return List.of(new Shape(3, 28, 28), new Shape(5, 14, 14), new Shape(4, 7, 7), new Shape(2, 8, 34),
        new Shape(3, 5, 9), new Shape(2, 2, 2), new Shape(2, 6, 66), new Shape(1, 4, 64));
  }

  /** Values from a small set, so windows often hold equal maxima; a few NaNs and infinities. */
  private static float[] input(Rng rng, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      double u = rng.nextDouble();
      x[i] = u < 0.02 ? Float.NaN : u < 0.04 ? Float.POSITIVE_INFINITY : u < 0.06 ? Float.NEGATIVE_INFINITY
          : rng.nextInt(7) - 3;
    }
    return x;
  }

  /** The input position (iy * W + ix) of each window's winner, per output. */
  private static int[] winners(Shape s, float[] x) {
    int oh = s.h() / 2;
    int ow = s.w() / 2;
    int[] at = new int[s.planes() * oh * ow];
    for (int p = 0; p < s.planes(); p++) {
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          float best = Float.NEGATIVE_INFINITY;
          int bestAt = 2 * oy * s.w() + 2 * ox;
          for (int iy = 2 * oy; iy < 2 * oy + 2; iy++) {
            for (int ix = 2 * ox; ix < 2 * ox + 2; ix++) {
              float v = x[p * s.h() * s.w() + iy * s.w() + ix];
              if (v > best || Float.isNaN(v) && !Float.isNaN(best)) {
                best = v;
                bestAt = iy * s.w() + ix;
              }
            }
          }
          at[(p * oh + oy) * ow + ox] = bestAt;
        }
      }
    }
    return at;
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void forwardAndBackwardMatchAPlainLoopOnBothPaths(Shape s) {
    Rng rng = new Rng(s.hashCode());
    int in = s.planes() * s.h() * s.w();
    int oh = s.h() / 2;
    int ow = s.w() / 2;
    int out = s.planes() * oh * ow;
    float[] x = input(rng, in);
    float[] dy = new float[out];
    for (int i = 0; i < out; i++) {
      dy[i] = (float) rng.uniform(-1, 1);
    }
    int[] at = winners(s, x);
    float[] expectY = new float[out];
    float[] expectDx = new float[in];
    for (int o = 0; o < out; o++) {
      int plane = o / (oh * ow) * s.h() * s.w();
      expectY[o] = x[plane + at[o]];
      expectDx[plane + at[o]] = dy[o];
    }
    long ints = MaxPool2x2.recordInts(s.planes(), oh, ow);
    Gemm.Variant[] variants = Gemm.Variant.values();
    try (Tensor xt = Tensor.of(x, in); Tensor dyt = Tensor.of(dy, out); Tensor y = Tensor.zeros(out);
        Tensor dx = Tensor.zeros(in)) {
      for (Gemm.Variant forwardVariant : variants) {
        for (Gemm.Variant backwardVariant : variants) {
          try (IndexBuffer record = new IndexBuffer(ints)) {
            String what = s + " forward " + forwardVariant + " backward " + backwardVariant;
            Gemm.setVariant(forwardVariant);
            y.fill(42f);
            MaxPool2x2.forward(xt.segment(), y.segment(), null, s.h(), s.w(), 0, s.planes());
            assertBitsEqual(what + " y (evaluation)", expectY, y.toFloatArray());
            y.fill(42f);
            MaxPool2x2.forward(xt.segment(), y.segment(), record.segment(), s.h(), s.w(), 0, s.planes());
            assertBitsEqual(what + " y", expectY, y.toFloatArray());
            Gemm.setVariant(backwardVariant);
            dx.fill(42f); // the kernel writes every element
            MaxPool2x2.backward(dyt.segment(), dx.segment(), record.segment(), s.h(), s.w(), 0, s.planes());
            assertBitsEqual(what + " dx", expectDx, dx.toFloatArray());
          }
        }
      }
    }
  }

  private static void assertBitsEqual(String what, float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
          what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
    }
  }
}
