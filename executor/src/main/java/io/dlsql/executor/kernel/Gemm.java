package io.dlsql.executor.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Single-precision general matrix multiply, {@code C = alpha * op(A) * op(B) + beta * C}, on
 * row-major matrices held in memory segments (offsets and leading dimensions in floats). This is
 * the entry point every layer calls; the variant it dispatches to can be switched for testing.
 */
public final class Gemm {
  private Gemm() {}

  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  /**
   * {@code C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C}. With {@code transA}, A is
   * stored k x m (row-major, leading dimension lda); likewise B is stored n x k with {@code transB}.
   */
  public static void sgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      MemorySegment a,
      long aOff,
      int lda,
      MemorySegment b,
      long bOff,
      int ldb,
      float beta,
      MemorySegment c,
      long cOff,
      int ldc) {
    ReferenceGemm.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
  }
}
