package io.dlsql.executor.kernel.gemm;

import static io.dlsql.executor.kernel.gemm.MicroKernel.MR;
import static io.dlsql.executor.kernel.gemm.MicroKernel.NR;
import static io.dlsql.executor.kernel.gemm.MicroKernel.SPECIES;
import static io.dlsql.executor.kernel.gemm.MicroKernel.V;
import static io.dlsql.executor.kernel.gemm.MicroKernel.VECTOR_BYTES;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Copies blocks of op(A) and op(B) into the contiguous layouts {@link MicroKernel} streams through:
 * A as slivers of {@code MR} rows stored k-major ({@code MR} floats per k step), B as slivers of
 * {@code NR} columns stored k-major ({@code NR} floats per k step). Rows and columns past the edge
 * are zero-filled so the kernel never needs a scalar tail; transposes are absorbed here.
 */
final class Packing {
  private Packing() {}

  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  /** Exactly MR floats: one k step of a transposed A sliver is one such vector. */
  private static final VectorSpecies<Float> MR_SPECIES = FloatVector.SPECIES_256;

  /**
   * Packs rows {@code [i0, i0 + rows)} and k steps {@code [p0, p0 + kc)} of op(A) into {@code dst}:
   * sliver {@code s} starts at {@code s * kc * MR}.
   */
  static void packA(
      boolean transA,
      MemorySegment a,
      long aOff,
      int lda,
      int i0,
      int rows,
      int p0,
      int kc,
      float[] dst) {
    int s = 0;
    if (transA && MR_SPECIES.length() == MR) {
      // A stored k x m: walk each stored row once, left to right, dealing MR floats to each
      // full sliver; reading sliver by sliver would revisit every cache line rows/MR times.
      int full = rows / MR;
      long stride = (long) lda * Float.BYTES;
      long src = (aOff + (long) p0 * lda + i0) * Float.BYTES;
      for (int p = 0; p < kc; p++, src += stride) {
        for (int t = 0, d = p * MR; t < full; t++, d += kc * MR) {
          FloatVector.fromMemorySegment(MR_SPECIES, a, src + (long) t * MR * Float.BYTES, TileStore.ORDER)
              .intoArray(dst, d);
        }
      }
      s = full;
    }
    for (; s * MR < rows; s++) {
      int base = s * kc * MR;
      int i = i0 + s * MR;
      int live = Math.min(MR, rows - s * MR);
      if (transA) {
        packTransposedASliver(a, aOff, lda, i, live, p0, kc, dst, base);
      } else {
        packASliver(a, aOff, lda, i, live, p0, kc, dst, base);
      }
    }
  }

  /** A stored m x k: each of the sliver's rows is contiguous in k and lands at stride MR. */
  private static void packASliver(
      MemorySegment a, long aOff, int lda, int i, int live, int p0, int kc, float[] dst, int base) {
    long src = aOff + (long) i * lda + p0;
    int p = 0;
    if (MR == 8 && Transpose.AVAILABLE) {
      for (; p + Transpose.LANES <= kc; p += Transpose.LANES) {
        Transpose.rows8x16(
            a, (src + p) * Float.BYTES, (long) lda * Float.BYTES, live, dst, base + p * MR);
      }
    }
    for (int r = 0; r < live; r++) {
      long row = src + (long) r * lda;
      for (int q = p, d = base + p * MR + r; q < kc; q++, d += MR) {
        dst[d] = a.getAtIndex(F32, row + q);
      }
    }
    zeroRows(dst, base, live, p, kc);
  }

  /** A stored k x m, a sliver of fewer than MR rows (the full ones are dealt out in packA). */
  private static void packTransposedASliver(
      MemorySegment a, long aOff, int lda, int i, int live, int p0, int kc, float[] dst, int base) {
    for (int p = 0; p < kc; p++) {
      long src = aOff + (long) (p0 + p) * lda + i;
      int d = base + p * MR;
      for (int r = 0; r < live; r++) {
        dst[d + r] = a.getAtIndex(F32, src + r);
      }
    }
    zeroRows(dst, base, live, 0, kc);
  }

  /** Zeroes rows {@code [live, MR)} of k steps {@code [from, kc)} of a packed A sliver. */
  private static void zeroRows(float[] dst, int base, int live, int from, int kc) {
    if (live == MR) {
      return;
    }
    for (int p = from; p < kc; p++) {
      Arrays.fill(dst, base + p * MR + live, base + (p + 1) * MR, 0f);
    }
  }

  /**
   * Packs k steps {@code [p0, p0 + kc)} and columns {@code [j0, j0 + cols)} of op(B) into {@code
   * dst}: sliver {@code s} starts at {@code s * kc * NR}.
   */
  static void packB(
      boolean transB,
      MemorySegment b,
      long bOff,
      int ldb,
      int p0,
      int kc,
      int j0,
      int cols,
      float[] dst) {
    if (!transB) {
      packBRows(b, bOff, ldb, p0, kc, j0, cols, dst);
      return;
    }
    for (int s = 0; s * NR < cols; s++) {
      int live = Math.min(NR, cols - s * NR);
      packTransposedBSliver(b, bOff, ldb, p0, kc, j0 + s * NR, live, dst, s * kc * NR);
    }
  }

  /**
   * B stored k x n: walks each stored row once, left to right, dealing NR floats to each sliver.
   * Going sliver by sliver instead would stride down the rows, touching a new page on almost every
   * load once rows are a few KiB long (12 KiB for n = 3136), and run at a fraction of memory speed.
   */
  private static void packBRows(
      MemorySegment b, long bOff, int ldb, int p0, int kc, int j0, int cols, float[] dst) {
    int full = cols / NR;
    long src = (bOff + (long) p0 * ldb + j0) * Float.BYTES;
    long stride = (long) ldb * Float.BYTES;
    for (int p = 0; p < kc; p++) {
      long at = src + p * stride;
      for (int s = 0, d = p * NR; s < full; s++, d += kc * NR, at += (long) NR * Float.BYTES) {
        for (int v = 0; v < NR; v += V) {
          FloatVector.fromMemorySegment(SPECIES, b, at + (long) v * Float.BYTES, TileStore.ORDER)
              .intoArray(dst, d + v);
        }
      }
    }
    if (full * NR < cols) {
      packBRaggedSliver(b, src + (long) full * NR * Float.BYTES, stride, kc, cols - full * NR, dst, full * kc * NR);
    }
  }

  /**
   * The last sliver of an odd width, {@code live < NR} columns from byte offset {@code src}, rows
   * {@code stride} bytes apart, zero-padded to NR.
   */
  private static void packBRaggedSliver(
      MemorySegment b, long src, long stride, int kc, int live, float[] dst, int base) {
    int whole = live / V * V;
    int rest = live - whole;
    VectorMask<Float> restMask = SPECIES.indexInRange(0, rest);
    long end = b.byteSize();
    for (int p = 0, d = base; p < kc; p++, d += NR, src += stride) {
      for (int jj = 0; jj < whole; jj += V) {
        FloatVector.fromMemorySegment(SPECIES, b, src + (long) jj * Float.BYTES, TileStore.ORDER)
            .intoArray(dst, d + jj);
      }
      int filled = whole;
      if (rest > 0) {
        long from = src + (long) whole * Float.BYTES;
        // A masked load is fast only while the whole vector lies inside the segment (past its
        // end the Vector API goes lane by lane and C2 deoptimizes); the last rows go by scalar.
        if (from + VECTOR_BYTES <= end) {
          FloatVector.fromMemorySegment(SPECIES, b, from, TileStore.ORDER, restMask)
              .intoArray(dst, d + whole);
          filled += V;
        } else {
          for (int jj = whole; jj < live; jj++) {
            dst[d + jj] = b.get(F32, src + (long) jj * Float.BYTES);
          }
          filled = live;
        }
      }
      if (filled < NR) {
        Arrays.fill(dst, d + filled, d + NR, 0f);
      }
    }
  }

  /** B stored n x k: each column of the sliver is a contiguous row of storage, written at stride NR. */
  private static void packTransposedBSliver(
      MemorySegment b, long bOff, int ldb, int p0, int kc, int j, int live, float[] dst, int base) {
    long src = bOff + (long) j * ldb + p0;
    int p = 0;
    if (Transpose.AVAILABLE) {
      long rowBytes = (long) ldb * Float.BYTES;
      int vectorSteps = kc / Transpose.LANES * Transpose.LANES;
      // One group of 16 stored rows at a time, all the way along k: 16 sequential read streams
      // the prefetcher can follow, where interleaving both groups would make 32.
      for (int group = 0; group < NR; group += Transpose.LANES) {
        int rows = Math.min(Transpose.LANES, live - group);
        for (int q = 0; q < vectorSteps; q += Transpose.LANES) {
          int d = base + q * NR + group;
          if (rows <= 0) {
            for (int t = 0; t < Transpose.LANES; t++) {
              Arrays.fill(dst, d + t * NR, d + t * NR + Transpose.LANES, 0f);
            }
          } else {
            Transpose.rows16x16(
                b, (src + (long) group * ldb + q) * Float.BYTES, rowBytes, rows, dst, d, NR);
          }
        }
      }
      p = vectorSteps;
    }
    for (int jj = 0; jj < live; jj++) {
      long row = src + (long) jj * ldb;
      for (int q = p, d = base + p * NR + jj; q < kc; q++, d += NR) {
        dst[d] = b.getAtIndex(F32, row + q);
      }
    }
    if (live == NR) {
      return;
    }
    for (int q = p; q < kc; q++) {
      Arrays.fill(dst, base + q * NR + live, base + (q + 1) * NR, 0f);
    }
  }
}
