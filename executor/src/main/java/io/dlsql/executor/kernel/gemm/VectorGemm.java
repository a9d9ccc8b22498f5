package io.dlsql.executor.kernel.gemm;

import static io.dlsql.executor.kernel.gemm.MicroKernel.MR;
import static io.dlsql.executor.kernel.gemm.MicroKernel.NR;

import io.dlsql.executor.kernel.Parallel;
import java.lang.foreign.MemorySegment;

/**
 * The fast {@code sgemm} variant on the Vector API: picks the unpacked path for tiny or single-row
 * problems, otherwise splits C into contiguous row or column ranges, one per thread of {@link
 * Parallel}, and runs {@link BlockedGemm} on each. Every element of C is computed by exactly one
 * thread in a fixed k order, so the result does not depend on the thread count or on timing.
 * Segments of a confined arena are computed on the calling thread alone, as are calls made from
 * inside a chunk of {@link Parallel#forRange} (a layer splitting its batch): splitting again there
 * would only run the halves one after the other and pack A twice. Arguments are assumed checked by {@link io.dlsql.executor.kernel.Gemm}.
 */
public final class VectorGemm {
  private VectorGemm() {}

  /** Below this many multiply-adds packing costs more than it saves. */
  static final long SMALL_FMAS = 32_768;
  /** Below this many multiply-adds handing work to another thread costs more than it saves. */
  static final long PARALLEL_MIN_FMAS = 1L << 21;
  /** Multiply-adds per tile and k step, the unit of {@link #splitByColumns}' cost. */
  private static final long TILE_FMAS = (long) MR * NR;
  /**
   * Cost of packing one float (per k step, like {@link #TILE_FMAS}) in multiply-adds: a packed
   * float takes about 0.15-0.3 ns, a multiply-add in the kernel about 0.02 ns (at 100 GFLOP/s).
   */
  private static final long PACKED_FLOAT_COST = 16;
  /**
   * Any thread but the caller, to ask a segment whether it is confined; never started. (A confined
   * segment answers false for every thread but its owner.)
   */
  private static final Thread OTHER_THREAD = Thread.ofPlatform().unstarted(() -> {});

  /** Same contract as {@link io.dlsql.executor.kernel.Gemm#sgemm}. */
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
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0 || alpha == 0f) {
      scale(m, n, beta, c, cOff, ldc);
      return;
    }
    long fmas = (long) m * n * k;
    if (fmas < SMALL_FMAS || m == 1) {
      SmallGemm.compute(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
      return;
    }
    Parallel parallel = Parallel.get();
    int threads =
        fmas < PARALLEL_MIN_FMAS
                || Parallel.insideChunk()
                || !shared(a)
                || !shared(b)
                || !shared(c)
            ? 1
            : parallel.threads();
    if (threads == 1) {
      BlockedGemm.compute(
          transA, transB, 0, m, 0, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
      return;
    }
    boolean byColumns = splitByColumns(m, n, threads);
    int units = byColumns ? ceilDiv(n, NR) : ceilDiv(m, MR);
    parallel.forRange(
        units,
        1,
        (chunk, from, to) -> {
          if (byColumns) {
            BlockedGemm.compute(
                transA, transB, 0, m, from * NR, Math.min(n, to * NR), k, alpha, a, aOff, lda, b,
                bOff, ldb, beta, c, cOff, ldc);
          } else {
            BlockedGemm.compute(
                transA, transB, from * MR, Math.min(m, to * MR), 0, n, k, alpha, a, aOff, lda, b,
                bOff, ldb, beta, c, cOff, ldc);
          }
        });
  }

  /**
   * Whether to give each thread a range of columns (each thread then packs all of A) rather than
   * of rows (each then packs all of B): the split whose busiest thread has less to do, counting
   * its tiles (padded edges included) and the floats it packs. A tie splits columns.
   */
  static boolean splitByColumns(int m, int n, int threads) {
    long rowTiles = ceilDiv(m, MR);
    long columnTiles = ceilDiv(n, NR);
    long byColumns =
        busiest(columnTiles, threads) * rowTiles * TILE_FMAS
            + PACKED_FLOAT_COST * ((long) m + busiest(columnTiles, threads) * NR);
    long byRows =
        busiest(rowTiles, threads) * columnTiles * TILE_FMAS
            + PACKED_FLOAT_COST * ((long) n + busiest(rowTiles, threads) * MR);
    return byColumns <= byRows;
  }

  /** Units the busiest of {@code threads} threads gets when {@link Parallel} deals them out. */
  private static long busiest(long units, int threads) {
    long used = Math.min(units, threads);
    return (units + used - 1) / used;
  }

  /**
   * Whether threads other than the caller may touch {@code segment}: not so for a segment of a
   * confined arena, which the pool's workers would get a WrongThreadException for.
   */
  private static boolean shared(MemorySegment segment) {
    return segment.isAccessibleBy(OTHER_THREAD);
  }

  /** {@code C = beta * C} (beta 0 clears C without reading it), for k = 0 or alpha = 0. */
  private static void scale(int m, int n, float beta, MemorySegment c, long cOff, int ldc) {
    for (int i = 0; i < m; i++) {
      long row = cOff + (long) i * ldc;
      for (int j = 0; j < n; j++) {
        float value = beta == 0f ? 0f : beta * c.getAtIndex(Packing.F32, row + j);
        c.setAtIndex(Packing.F32, row + j, value);
      }
    }
  }

  private static int ceilDiv(int x, int y) {
    return (x + y - 1) / y;
  }
}
