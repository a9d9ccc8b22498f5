package io.dlsql.executor.kernel.gemm;

import static io.dlsql.executor.kernel.gemm.MicroKernel.MR;
import static io.dlsql.executor.kernel.gemm.MicroKernel.NR;
import static io.dlsql.executor.kernel.gemm.MicroKernel.V;

import java.lang.foreign.MemorySegment;

/**
 * The cache-blocked GEMM loop nest over one rectangle of C (GotoBLAS order): for each panel of
 * {@code nc} columns and block of {@code kc} k steps B is packed once; for each block of {@code mc}
 * rows A is packed; then each A sliver ({@code MR x kc}, kept in L1) sweeps the row of B slivers
 * streaming from L2/L3. Sweeping along a row of C tiles lets the hardware prefetcher follow the C
 * rows, which a column-wise sweep defeats. Block sizes depend only on the problem shape, never on
 * the thread count, so every element of C sees the same k order however the work was split.
 */
final class BlockedGemm {
  private BlockedGemm() {}

  /**
   * k steps per block. Longer blocks merge into C less often (each merge of a tile reads and writes
   * C, which rarely sits in cache); 384 keeps an A sliver ({@code MR x KC}, 12 KiB) in L1.
   */
  static final int KC = 384;
  /** Rows per packed A block ({@code MC x KC} floats, 192 KiB, for L2). */
  static final int MC = 128;
  /**
   * Columns per packed B panel ({@code KC x NC} floats, 3 MiB, for L3): wide enough that A is
   * packed once for the common widths, and L3 feeds a B sliver fast enough for the kernel.
   */
  static final int NC = 2048;

  /**
   * Computes rows {@code [i0, i1)} and columns {@code [j0, j1)} of {@code C = alpha * op(A) *
   * op(B) + beta * C}; {@code k > 0}.
   */
  static void compute(
      boolean transA,
      boolean transB,
      int i0,
      int i1,
      int j0,
      int j1,
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
    int kc = balanced(k, KC, 1);
    int nc = balanced(j1 - j0, NC, NR);
    int mc = balanced(i1 - i0, MC, MR);
    GemmWorkspace ws = GemmWorkspace.current();
    float[] packedB = ws.packedB(kc * roundUp(Math.min(nc, j1 - j0), NR));
    float[] packedA = ws.packedA(kc * roundUp(Math.min(mc, i1 - i0), MR));
    float[] acc = ws.tile();
    long ldbBytes = (long) ldb * Float.BYTES;
    long ldcBytes = (long) ldc * Float.BYTES;
    boolean bInPlace = !transB && i1 - i0 <= IN_PLACE_B_MAX_ROWS && ldb <= IN_PLACE_B_MAX_LDB;
    for (int jc = j0; jc < j1; jc += nc) {
      int ncb = Math.min(nc, j1 - jc);
      // With B read in place only the ragged last sliver (if any) is packed, at index 0.
      int fullWidth = ncb / NR * NR;
      for (int pc = 0; pc < k; pc += kc) {
        int kcb = Math.min(kc, k - pc);
        if (!bInPlace) {
          Packing.packB(transB, b, bOff, ldb, pc, kcb, jc, ncb, packedB);
        } else if (fullWidth < ncb) {
          Packing.packB(false, b, bOff, ldb, pc, kcb, jc + fullWidth, ncb - fullWidth, packedB);
        }
        // Later k blocks add onto what the first one stored.
        float blockBeta = pc == 0 ? beta : 1f;
        for (int ic = i0; ic < i1; ic += mc) {
          int mcb = Math.min(mc, i1 - ic);
          Packing.packA(transA, a, aOff, lda, ic, mcb, pc, kcb, packedA);
          for (int ir = 0; ir < mcb; ir += MR) {
            int rows = Math.min(MR, mcb - ir);
            int aIndex = ir * kcb;
            for (int jr = 0; jr < ncb; jr += NR) {
              int cols = Math.min(NR, ncb - jr);
              int bIndex = bInPlace ? 0 : jr * kcb;
              long cIndex = cOff + (long) (ic + ir) * ldc + jc + jr;
              long cOffset = cIndex * Float.BYTES;
              long bInPlaceIndex = bOff + (long) pc * ldb + jc + jr;
              if (rows == MR && cols == NR && blockBeta == 0f) {
                tile(kcb, packedA, aIndex, packedB, bIndex, b, bInPlace, bInPlaceIndex, ldbBytes,
                    acc, c, cOffset, ldcBytes, alpha);
                continue;
              }
              // Edge tile or beta to apply: accumulate into acc, then merge the live part.
              if (cols <= QUARTER) {
                MicroKernel.quarterTile(kcb, packedA, aIndex, packedB, bIndex, acc, 0);
              } else if (cols <= V) {
                MicroKernel.narrowTile(kcb, packedA, aIndex, packedB, bIndex, acc);
              } else if (cols <= V + QUARTER && V + QUARTER < NR) {
                // e.g. the 17 columns left of 49: one vector plus a quarter, not two vectors.
                MicroKernel.narrowTile(kcb, packedA, aIndex, packedB, bIndex, acc);
                MicroKernel.quarterTile(kcb, packedA, aIndex, packedB, bIndex + V, acc, V);
              } else {
                tile(kcb, packedA, aIndex, packedB, bIndex, b, bInPlace && cols == NR, bInPlaceIndex,
                    ldbBytes, acc, null, 0, 0, alpha);
              }
              TileStore.merge(acc, c, cIndex, ldc, rows, cols, alpha, blockBeta);
            }
          }
        }
      }
    }
  }

  /**
   * One two-vector tile, B from the packed panel or (with {@code bInPlace}) straight from the
   * caller's B at float index {@code bIndexInPlace}; stored into C as {@code alpha * acc} when
   * {@code direct} is non-null, else parked in {@code acc}.
   */
  private static void tile(
      int kc,
      float[] packedA,
      int aIndex,
      float[] packedB,
      int bIndex,
      MemorySegment b,
      boolean bInPlace,
      long bIndexInPlace,
      long ldbBytes,
      float[] acc,
      MemorySegment direct,
      long cOffset,
      long ldcBytes,
      float alpha) {
    if (bInPlace) {
      MicroKernel.tileFromSegment(
          kc, packedA, aIndex, b, bIndexInPlace * Float.BYTES, ldbBytes, acc, direct, cOffset,
          ldcBytes, alpha);
    } else {
      MicroKernel.tile(kc, packedA, aIndex, packedB, bIndex, acc, direct, cOffset, ldcBytes, alpha);
    }
  }

  /** Columns a {@link MicroKernel#quarterTile} covers. */
  private static final int QUARTER = MicroKernel.QUARTER.length();

  /**
   * Up to this many rows of C, B (when stored k x n) is read in place rather than packed: each B
   * element then serves only a few row slivers, too few to pay back the copy.
   */
  static final int IN_PLACE_B_MAX_ROWS = 64;

  /**
   * ...and only while a row of B is at most a 4 KiB page: the kernel steps down B one row per k
   * step, and with longer rows every step lands on a new page (TLB misses cost more than packing).
   */
  static final int IN_PLACE_B_MAX_LDB = 1024;

  /**
   * Splits {@code extent} into the fewest blocks of at most {@code max} and returns the size of
   * each, rounded up to {@code unit}: 300 with 256 gives two blocks of 150, not 256 and 44.
   */
  static int balanced(int extent, int max, int unit) {
    int blocks = Math.max(1, (extent + max - 1) / max);
    return roundUp((extent + blocks - 1) / blocks, unit);
  }

  static int roundUp(int x, int unit) {
    return (x + unit - 1) / unit * unit;
  }
}
