package io.dlsql.executor.kernel.gemm;

import static io.dlsql.executor.kernel.gemm.MicroKernel.SPECIES;
import static io.dlsql.executor.kernel.gemm.MicroKernel.V;
import static io.dlsql.executor.kernel.gemm.Packing.F32;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;

/**
 * GEMM straight from the caller's segments, without packing or threads: for problems so small
 * (or so thin, like a single row) that copying operands would cost more than the arithmetic.
 * Vectorized along the contiguous dimension: rows of C when B is k x n, the k dimension (a dot
 * product per element) when B is stored n x k.
 */
final class SmallGemm {
  private SmallGemm() {}

  static void compute(
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
    if (!transB) {
      rowsTimesB(transA, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    } else if (!transA) {
      dotProducts(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    } else {
      scalar(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }
  }

  /** B stored k x n: each vector of a C row accumulates A(i, p) times a vector of B row p. */
  private static void rowsTimesB(
      boolean transA,
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
    long aRowStep = transA ? 1 : lda;
    long aColStep = transA ? lda : 1;
    float[] lanes = GemmWorkspace.current().tile();
    for (int i = 0; i < m; i++) {
      long aRow = aOff + i * aRowStep;
      long cRow = cOff + (long) i * ldc;
      int j = 0;
      for (; j + V <= n; j += V) {
        FloatVector acc = FloatVector.zero(SPECIES);
        long bIndex = bOff + j;
        for (int p = 0; p < k; p++, bIndex += ldb) {
          FloatVector bv = FloatVector.fromMemorySegment(SPECIES, b, bIndex * Float.BYTES, TileStore.ORDER);
          FloatVector av = FloatVector.broadcast(SPECIES, a.getAtIndex(F32, aRow + p * aColStep));
          acc = av.fma(bv, acc);
        }
        // Parked and reloaded, so the loop accumulator never reaches a call (see TileStore.sumLanes).
        acc.intoArray(lanes, 0);
        TileStore.full(FloatVector.fromArray(SPECIES, lanes, 0), c, cRow + j, alpha, beta);
      }
      for (; j < n; j++) {
        float sum = 0f;
        long bIndex = bOff + j;
        for (int p = 0; p < k; p++, bIndex += ldb) {
          sum = Math.fma(a.getAtIndex(F32, aRow + p * aColStep), b.getAtIndex(F32, bIndex), sum);
        }
        TileStore.scalar(sum, c, cRow + j, alpha, beta);
      }
    }
  }

  /** A stored m x k and B stored n x k: both operands of C(i, j) are contiguous runs of k. */
  private static void dotProducts(
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
    float[] lanes = GemmWorkspace.current().tile();
    for (int i = 0; i < m; i++) {
      long aRow = (aOff + (long) i * lda) * Float.BYTES;
      for (int j = 0; j < n; j++) {
        long bRow = (bOff + (long) j * ldb) * Float.BYTES;
        FloatVector acc = FloatVector.zero(SPECIES);
        int p = 0;
        for (; p + V <= k; p += V) {
          long step = (long) p * Float.BYTES;
          FloatVector av = FloatVector.fromMemorySegment(SPECIES, a, aRow + step, TileStore.ORDER);
          FloatVector bv = FloatVector.fromMemorySegment(SPECIES, b, bRow + step, TileStore.ORDER);
          acc = av.fma(bv, acc);
        }
        acc.intoArray(lanes, 0);
        float sum = TileStore.sumLanes(lanes);
        for (; p < k; p++) {
          long step = (long) p * Float.BYTES;
          sum = Math.fma(a.get(F32, aRow + step), b.get(F32, bRow + step), sum);
        }
        TileStore.scalar(sum, c, cOff + (long) i * ldc + j, alpha, beta);
      }
    }
  }

  /** Both operands transposed: neither is contiguous along a useful axis at this size. */
  private static void scalar(
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
        float sum = 0f;
        long aIndex = aOff + i;
        long bIndex = bOff + (long) j * ldb;
        for (int p = 0; p < k; p++, aIndex += lda) {
          sum = Math.fma(a.getAtIndex(F32, aIndex), b.getAtIndex(F32, bIndex + p), sum);
        }
        TileStore.scalar(sum, c, cOff + (long) i * ldc + j, alpha, beta);
      }
    }
  }
}
