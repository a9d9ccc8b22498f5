package io.dlsql.executor.kernel.gemm;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * One GEMM problem for tests: random operands laid out with offsets and leading dimensions, in
 * heap or native segments, plus a float64 oracle and a tolerance that grows with k.
 */
final class GemmFixture {
  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  /** float32 unit roundoff. */
  private static final double EPS = 0x1p-24;
  /** Written around C's window; must survive every call untouched. */
  static final float GUARD = -7777.25f;

  final boolean transA;
  final boolean transB;
  final int m;
  final int n;
  final int k;
  final float alpha;
  final float beta;
  final MemorySegment a;
  final long aOff;
  final int lda;
  final MemorySegment b;
  final long bOff;
  final int ldb;
  final MemorySegment c;
  final long cOff;
  final int ldc;
  /** C before the call, for the oracle. */
  private final float[] c0;

  /**
   * @param pad extra floats added to each leading dimension and used as the offset of each matrix
   * @param garbageC fill C with NaN and infinities instead of values (only sensible with beta 0)
   */
  GemmFixture(
      Arena arena,
      boolean heap,
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      float beta,
      int pad,
      boolean garbageC,
      long seed) {
    this.transA = transA;
    this.transB = transB;
    this.m = m;
    this.n = n;
    this.k = k;
    this.alpha = alpha;
    this.beta = beta;
    SplittableRandom random = new SplittableRandom(seed);
    int aRows = transA ? k : m;
    int aCols = transA ? m : k;
    int bRows = transB ? n : k;
    int bCols = transB ? k : n;
    lda = aCols + pad;
    ldb = bCols + pad;
    ldc = n + pad;
    aOff = pad;
    bOff = pad;
    cOff = pad;
    a = allocate(arena, heap, aOff + (long) aRows * lda);
    b = allocate(arena, heap, bOff + (long) bRows * ldb);
    c = allocate(arena, heap, cOff + (long) m * ldc);
    fill(a, random);
    fill(b, random);
    for (long i = 0; i < c.byteSize() / Float.BYTES; i++) {
      c.setAtIndex(F32, i, GUARD);
    }
    c0 = new float[m * n];
    float[] garbage = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float v =
            garbageC
                ? garbage[(i + j) % garbage.length]
                : (float) (random.nextDouble() * 2 - 1);
        c0[i * n + j] = v;
        c.setAtIndex(F32, cOff + (long) i * ldc + j, v);
      }
    }
  }

  private static MemorySegment allocate(Arena arena, boolean heap, long floats) {
    long size = Math.max(1, floats);
    return heap ? MemorySegment.ofArray(new float[(int) size]) : arena.allocate(size * Float.BYTES, 4);
  }

  private static void fill(MemorySegment seg, SplittableRandom random) {
    for (long i = 0; i < seg.byteSize() / Float.BYTES; i++) {
      seg.setAtIndex(F32, i, (float) (random.nextDouble() * 2 - 1));
    }
  }

  float aAt(int i, int p) {
    return a.getAtIndex(F32, aOff + (transA ? (long) p * lda + i : (long) i * lda + p));
  }

  float bAt(int p, int j) {
    return b.getAtIndex(F32, bOff + (transB ? (long) j * ldb + p : (long) p * ldb + j));
  }

  float cAt(int i, int j) {
    return c.getAtIndex(F32, cOff + (long) i * ldc + j);
  }

  /** Copies C's current contents out (row-major m x n). */
  float[] result() {
    float[] out = new float[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        out[i * n + j] = cAt(i, j);
      }
    }
    return out;
  }

  /** Puts C back to what it held before the first call. */
  void resetC() {
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        c.setAtIndex(F32, cOff + (long) i * ldc + j, c0[i * n + j]);
      }
    }
  }

  /**
   * The float64 result for every element of C (row-major m x n), computed from the operands and
   * C's contents before the first call.
   */
  double[] oracle() {
    double[] out = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double sum = 0;
        for (int p = 0; p < k; p++) {
          sum += (double) aAt(i, p) * bAt(p, j);
        }
        out[i * n + j] = alpha * sum + (beta == 0f ? 0 : (double) beta * c0[i * n + j]);
      }
    }
    return out;
  }

  /**
   * How far a float32 result may sit from {@link #oracle()}: the classic bound for a length-k dot
   * product, {@code ~k * eps * sum|a*b|}, plus the rounding of the merge with {@code beta * C}.
   */
  double[] tolerance() {
    double[] out = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double magnitude = 0;
        for (int p = 0; p < k; p++) {
          magnitude += Math.abs((double) aAt(i, p) * bAt(p, j));
        }
        double prior = beta == 0f ? 0 : Math.abs((double) beta * c0[i * n + j]);
        out[i * n + j] = (k + 4) * EPS * (Math.abs(alpha) * magnitude + prior) + Float.MIN_NORMAL;
      }
    }
    return out;
  }

  /** Checks C against {@link #oracle()} within {@link #tolerance()}, and C's surroundings. */
  void assertMatchesFloat64(String label) {
    double[] expected = oracle();
    double[] tolerance = tolerance();
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double actual = cAt(i, j);
        int e = i * n + j;
        if (!(Math.abs(actual - expected[e]) <= tolerance[e])) {
          fail(
              String.format(
                  "%s: C[%d,%d] = %s, float64 oracle %s, tolerance %.3g", label, i, j, actual,
                  expected[e], tolerance[e]));
        }
      }
    }
    assertGuardsIntact(label);
  }

  /** Checks that every float of C's segment outside the m x n window still holds the guard. */
  void assertGuardsIntact(String label) {
    long total = c.byteSize() / Float.BYTES;
    for (long idx = 0; idx < total; idx++) {
      long rel = idx - cOff;
      boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
      if (!inside && Float.floatToRawIntBits(c.getAtIndex(F32, idx)) != Float.floatToRawIntBits(GUARD)) {
        fail(label + ": float " + idx + " outside C's window was overwritten");
      }
    }
  }
}
