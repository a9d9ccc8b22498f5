package io.dlsql.executor.kernel;

import java.lang.foreign.MemorySegment;

/** Variant 0 of {@link Gemm}: the plain triple loop every fast variant is checked against. */
public final class ReferenceGemm {
  private ReferenceGemm() {}

  /**
   * Same contract as {@link Gemm#sgemm}, computed one element at a time: a sum over k in order,
   * accumulated in double (so the oracle's own rounding stays far below the tolerances the fast
   * variants are held to, even for k in the thousands), then {@code alpha * sum + beta * C}
   * rounded once to float (C not read when beta is 0). Arguments unchecked.
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
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double sum = 0d;
        for (int p = 0; p < k; p++) {
          long ai = aOff + (transA ? (long) p * lda + i : (long) i * lda + p);
          long bi = bOff + (transB ? (long) j * ldb + p : (long) p * ldb + j);
          sum += (double) a.getAtIndex(Gemm.F32, ai) * b.getAtIndex(Gemm.F32, bi);
        }
        long ci = cOff + (long) i * ldc + j;
        double prior = beta == 0f ? 0d : (double) beta * c.getAtIndex(Gemm.F32, ci);
        c.setAtIndex(Gemm.F32, ci, (float) (alpha * sum + prior));
      }
    }
  }
}
