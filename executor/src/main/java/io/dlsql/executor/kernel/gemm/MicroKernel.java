package io.dlsql.executor.kernel.gemm;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked inner kernels of {@link BlockedGemm}: an {@value #MR}-row by two-vector tile
 * of C is accumulated in registers from a packed A sliver ({@code MR} values per k step) and a packed
 * B sliver ({@code NR} values per k step), one broadcast of A and two FMAs per row and k step, with
 * no reductions in the loop. A one-vector variant covers the narrow last sliver of odd widths.
 *
 * <p>The accumulators are plain locals, written out one per row and vector, because that is what
 * lets C2 keep all of them in vector registers (an array of vectors would live in memory).
 */
final class MicroKernel {
  private MicroKernel() {}

  static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  /** Floats per vector register. */
  static final int V = SPECIES.length();
  /** Rows of C per tile: eight rows of two vectors use 16 of the 32 AVX-512 registers. */
  static final int MR = 8;
  /** Columns of C per tile (two vectors). */
  static final int NR = 2 * V;
  /** Bytes of one vector. */
  static final long VECTOR_BYTES = (long) V * Float.BYTES;
  /** 128-bit vectors for the last few columns of an odd width ({@link #quarterTile}). */
  static final VectorSpecies<Float> QUARTER = FloatVector.SPECIES_128;

  /**
   * Accumulates {@code kc} k steps of an {@code MR x NR} tile from packed slivers of A (at
   * {@code aIndex}) and B (at {@code bIndex}). With {@code c} non-null the tile is stored
   * there as {@code C = alpha * acc} (beta 0, C not read; rows {@code ldcBytes} apart from
   * byte {@code cOffset}), rounding as {@link TileStore} does. With {@code c} null (an edge
   * tile, or beta not 0) the accumulators are parked in {@code acc} (rows at stride {@code
   * NR}) for {@link TileStore#merge}.
   */
  static void tile(
      int kc, float[] ap, int aIndex, float[] bp, int bIndex, float[] acc,
      MemorySegment c, long cOffset, long ldcBytes, float alpha) {
    FloatVector c00 = FloatVector.zero(SPECIES); FloatVector c01 = FloatVector.zero(SPECIES);
    FloatVector c10 = FloatVector.zero(SPECIES); FloatVector c11 = FloatVector.zero(SPECIES);
    FloatVector c20 = FloatVector.zero(SPECIES); FloatVector c21 = FloatVector.zero(SPECIES);
    FloatVector c30 = FloatVector.zero(SPECIES); FloatVector c31 = FloatVector.zero(SPECIES);
    FloatVector c40 = FloatVector.zero(SPECIES); FloatVector c41 = FloatVector.zero(SPECIES);
    FloatVector c50 = FloatVector.zero(SPECIES); FloatVector c51 = FloatVector.zero(SPECIES);
    FloatVector c60 = FloatVector.zero(SPECIES); FloatVector c61 = FloatVector.zero(SPECIES);
    FloatVector c70 = FloatVector.zero(SPECIES); FloatVector c71 = FloatVector.zero(SPECIES);
    int ai = aIndex;
    int bi = bIndex;
    for (int p = 0; p < kc; p++) {
      FloatVector b0 = FloatVector.fromArray(SPECIES, bp, bi);
      FloatVector b1 = FloatVector.fromArray(SPECIES, bp, bi + V);
      FloatVector a0 = FloatVector.broadcast(SPECIES, ap[ai]);
      c00 = a0.fma(b0, c00);
      c01 = a0.fma(b1, c01);
      FloatVector a1 = FloatVector.broadcast(SPECIES, ap[ai + 1]);
      c10 = a1.fma(b0, c10);
      c11 = a1.fma(b1, c11);
      FloatVector a2 = FloatVector.broadcast(SPECIES, ap[ai + 2]);
      c20 = a2.fma(b0, c20);
      c21 = a2.fma(b1, c21);
      FloatVector a3 = FloatVector.broadcast(SPECIES, ap[ai + 3]);
      c30 = a3.fma(b0, c30);
      c31 = a3.fma(b1, c31);
      FloatVector a4 = FloatVector.broadcast(SPECIES, ap[ai + 4]);
      c40 = a4.fma(b0, c40);
      c41 = a4.fma(b1, c41);
      FloatVector a5 = FloatVector.broadcast(SPECIES, ap[ai + 5]);
      c50 = a5.fma(b0, c50);
      c51 = a5.fma(b1, c51);
      FloatVector a6 = FloatVector.broadcast(SPECIES, ap[ai + 6]);
      c60 = a6.fma(b0, c60);
      c61 = a6.fma(b1, c61);
      FloatVector a7 = FloatVector.broadcast(SPECIES, ap[ai + 7]);
      c70 = a7.fma(b0, c70);
      c71 = a7.fma(b1, c71);
      ai += MR;
      bi += NR;
    }
    if (c != null) {
      // Straight into C: parking a whole tile in acc and reading it back stalls on store
      // forwarding, a third of a tile's time when k is short (25 or 64 steps). Only for
      // beta 0, the one-k-block case where that matters; the read-modify-write of beta
      // here too would keep C1 from compiling the method at all (out of registers).
      FloatVector alphaV = FloatVector.broadcast(SPECIES, alpha);
      long row = cOffset;
      c00.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c01.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c10.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c11.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c20.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c21.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c30.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c31.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c40.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c41.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c50.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c51.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c60.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c61.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c70.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c71.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      return;
    }
    c00.intoArray(acc, 0 * NR);
    c01.intoArray(acc, 0 * NR + V);
    c10.intoArray(acc, 1 * NR);
    c11.intoArray(acc, 1 * NR + V);
    c20.intoArray(acc, 2 * NR);
    c21.intoArray(acc, 2 * NR + V);
    c30.intoArray(acc, 3 * NR);
    c31.intoArray(acc, 3 * NR + V);
    c40.intoArray(acc, 4 * NR);
    c41.intoArray(acc, 4 * NR + V);
    c50.intoArray(acc, 5 * NR);
    c51.intoArray(acc, 5 * NR + V);
    c60.intoArray(acc, 6 * NR);
    c61.intoArray(acc, 6 * NR + V);
    c70.intoArray(acc, 7 * NR);
    c71.intoArray(acc, 7 * NR + V);
  }

  /**
   * Like {@link #tile}, but reads B in place: {@code NR} floats at {@code bOffset} (bytes) for
   * the first k step, then one row of {@code ldbBytes} further per step. For few rows of C
   * every B element is used only a few times, and packing it would cost more than it saves.
   */
  static void tileFromSegment(
      int kc, float[] ap, int aIndex, MemorySegment b, long bOffset, long ldbBytes, float[] acc,
      MemorySegment c, long cOffset, long ldcBytes, float alpha) {
    FloatVector c00 = FloatVector.zero(SPECIES); FloatVector c01 = FloatVector.zero(SPECIES);
    FloatVector c10 = FloatVector.zero(SPECIES); FloatVector c11 = FloatVector.zero(SPECIES);
    FloatVector c20 = FloatVector.zero(SPECIES); FloatVector c21 = FloatVector.zero(SPECIES);
    FloatVector c30 = FloatVector.zero(SPECIES); FloatVector c31 = FloatVector.zero(SPECIES);
    FloatVector c40 = FloatVector.zero(SPECIES); FloatVector c41 = FloatVector.zero(SPECIES);
    FloatVector c50 = FloatVector.zero(SPECIES); FloatVector c51 = FloatVector.zero(SPECIES);
    FloatVector c60 = FloatVector.zero(SPECIES); FloatVector c61 = FloatVector.zero(SPECIES);
    FloatVector c70 = FloatVector.zero(SPECIES); FloatVector c71 = FloatVector.zero(SPECIES);
    int ai = aIndex;
    long bo = bOffset;
    for (int p = 0; p < kc; p++) {
      FloatVector b0 = FloatVector.fromMemorySegment(SPECIES, b, bo, TileStore.ORDER);
      FloatVector b1 = FloatVector.fromMemorySegment(SPECIES, b, bo + V * Float.BYTES, TileStore.ORDER);
      FloatVector a0 = FloatVector.broadcast(SPECIES, ap[ai]);
      c00 = a0.fma(b0, c00);
      c01 = a0.fma(b1, c01);
      FloatVector a1 = FloatVector.broadcast(SPECIES, ap[ai + 1]);
      c10 = a1.fma(b0, c10);
      c11 = a1.fma(b1, c11);
      FloatVector a2 = FloatVector.broadcast(SPECIES, ap[ai + 2]);
      c20 = a2.fma(b0, c20);
      c21 = a2.fma(b1, c21);
      FloatVector a3 = FloatVector.broadcast(SPECIES, ap[ai + 3]);
      c30 = a3.fma(b0, c30);
      c31 = a3.fma(b1, c31);
      FloatVector a4 = FloatVector.broadcast(SPECIES, ap[ai + 4]);
      c40 = a4.fma(b0, c40);
      c41 = a4.fma(b1, c41);
      FloatVector a5 = FloatVector.broadcast(SPECIES, ap[ai + 5]);
      c50 = a5.fma(b0, c50);
      c51 = a5.fma(b1, c51);
      FloatVector a6 = FloatVector.broadcast(SPECIES, ap[ai + 6]);
      c60 = a6.fma(b0, c60);
      c61 = a6.fma(b1, c61);
      FloatVector a7 = FloatVector.broadcast(SPECIES, ap[ai + 7]);
      c70 = a7.fma(b0, c70);
      c71 = a7.fma(b1, c71);
      ai += MR;
      bo += ldbBytes;
    }
    if (c != null) {
      // Straight into C: parking a whole tile in acc and reading it back stalls on store
      // forwarding, a third of a tile's time when k is short (25 or 64 steps). Only for
      // beta 0, the one-k-block case where that matters; the read-modify-write of beta
      // here too would keep C1 from compiling the method at all (out of registers).
      FloatVector alphaV = FloatVector.broadcast(SPECIES, alpha);
      long row = cOffset;
      c00.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c01.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c10.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c11.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c20.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c21.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c30.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c31.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c40.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c41.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c50.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c51.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c60.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c61.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      row += ldcBytes;
      c70.mul(alphaV).intoMemorySegment(c, row, TileStore.ORDER);
      c71.mul(alphaV).intoMemorySegment(c, row + VECTOR_BYTES, TileStore.ORDER);
      return;
    }
    c00.intoArray(acc, 0 * NR);
    c01.intoArray(acc, 0 * NR + V);
    c10.intoArray(acc, 1 * NR);
    c11.intoArray(acc, 1 * NR + V);
    c20.intoArray(acc, 2 * NR);
    c21.intoArray(acc, 2 * NR + V);
    c30.intoArray(acc, 3 * NR);
    c31.intoArray(acc, 3 * NR + V);
    c40.intoArray(acc, 4 * NR);
    c41.intoArray(acc, 4 * NR + V);
    c50.intoArray(acc, 5 * NR);
    c51.intoArray(acc, 5 * NR + V);
    c60.intoArray(acc, 6 * NR);
    c61.intoArray(acc, 6 * NR + V);
    c70.intoArray(acc, 7 * NR);
    c71.intoArray(acc, 7 * NR + V);
  }

  /**
   * Like {@link #tile} for a sliver of at most {@code V} columns: one accumulator per row, so
   * the narrow last sliver of widths like 196 or 49 does not pay for a second vector. Writes
   * the first {@code V} columns of each {@code acc} row.
   */
  static void narrowTile(
      int kc, float[] ap, int aIndex, float[] bp, int bIndex, float[] acc) {
    FloatVector c00 = FloatVector.zero(SPECIES);
    FloatVector c10 = FloatVector.zero(SPECIES);
    FloatVector c20 = FloatVector.zero(SPECIES);
    FloatVector c30 = FloatVector.zero(SPECIES);
    FloatVector c40 = FloatVector.zero(SPECIES);
    FloatVector c50 = FloatVector.zero(SPECIES);
    FloatVector c60 = FloatVector.zero(SPECIES);
    FloatVector c70 = FloatVector.zero(SPECIES);
    int ai = aIndex;
    int bi = bIndex;
    for (int p = 0; p < kc; p++) {
      FloatVector b0 = FloatVector.fromArray(SPECIES, bp, bi);
      FloatVector a0 = FloatVector.broadcast(SPECIES, ap[ai]);
      c00 = a0.fma(b0, c00);
      FloatVector a1 = FloatVector.broadcast(SPECIES, ap[ai + 1]);
      c10 = a1.fma(b0, c10);
      FloatVector a2 = FloatVector.broadcast(SPECIES, ap[ai + 2]);
      c20 = a2.fma(b0, c20);
      FloatVector a3 = FloatVector.broadcast(SPECIES, ap[ai + 3]);
      c30 = a3.fma(b0, c30);
      FloatVector a4 = FloatVector.broadcast(SPECIES, ap[ai + 4]);
      c40 = a4.fma(b0, c40);
      FloatVector a5 = FloatVector.broadcast(SPECIES, ap[ai + 5]);
      c50 = a5.fma(b0, c50);
      FloatVector a6 = FloatVector.broadcast(SPECIES, ap[ai + 6]);
      c60 = a6.fma(b0, c60);
      FloatVector a7 = FloatVector.broadcast(SPECIES, ap[ai + 7]);
      c70 = a7.fma(b0, c70);
      ai += MR;
      bi += NR;
    }
    c00.intoArray(acc, 0 * NR);
    c10.intoArray(acc, 1 * NR);
    c20.intoArray(acc, 2 * NR);
    c30.intoArray(acc, 3 * NR);
    c40.intoArray(acc, 4 * NR);
    c50.intoArray(acc, 5 * NR);
    c60.intoArray(acc, 6 * NR);
    c70.intoArray(acc, 7 * NR);
  }

  /**
   * Like {@link #narrowTile} for at most {@code QUARTER.length()} (4) columns, on 128-bit vectors:
   * the last few columns of widths like 196 (= 6 * 32 + 4) or 49 (= 32 + 16 + 1) would otherwise
   * cost a whole 512-bit sliver. Reads the packed B sliver from {@code bIndex} (stride {@code NR})
   * and writes {@code acc} from column {@code accColumn} of each row.
   */
  static void quarterTile(
      int kc, float[] ap, int aIndex, float[] bp, int bIndex, float[] acc, int accColumn) {
    FloatVector c0 = FloatVector.zero(QUARTER);
    FloatVector c1 = FloatVector.zero(QUARTER);
    FloatVector c2 = FloatVector.zero(QUARTER);
    FloatVector c3 = FloatVector.zero(QUARTER);
    FloatVector c4 = FloatVector.zero(QUARTER);
    FloatVector c5 = FloatVector.zero(QUARTER);
    FloatVector c6 = FloatVector.zero(QUARTER);
    FloatVector c7 = FloatVector.zero(QUARTER);
    int ai = aIndex;
    int bi = bIndex;
    for (int p = 0; p < kc; p++) {
      FloatVector b = FloatVector.fromArray(QUARTER, bp, bi);
      c0 = FloatVector.broadcast(QUARTER, ap[ai]).fma(b, c0);
      c1 = FloatVector.broadcast(QUARTER, ap[ai + 1]).fma(b, c1);
      c2 = FloatVector.broadcast(QUARTER, ap[ai + 2]).fma(b, c2);
      c3 = FloatVector.broadcast(QUARTER, ap[ai + 3]).fma(b, c3);
      c4 = FloatVector.broadcast(QUARTER, ap[ai + 4]).fma(b, c4);
      c5 = FloatVector.broadcast(QUARTER, ap[ai + 5]).fma(b, c5);
      c6 = FloatVector.broadcast(QUARTER, ap[ai + 6]).fma(b, c6);
      c7 = FloatVector.broadcast(QUARTER, ap[ai + 7]).fma(b, c7);
      ai += MR;
      bi += NR;
    }
    c0.intoArray(acc, 0 * NR + accColumn);
    c1.intoArray(acc, 1 * NR + accColumn);
    c2.intoArray(acc, 2 * NR + accColumn);
    c3.intoArray(acc, 3 * NR + accColumn);
    c4.intoArray(acc, 4 * NR + accColumn);
    c5.intoArray(acc, 5 * NR + accColumn);
    c6.intoArray(acc, 6 * NR + accColumn);
    c7.intoArray(acc, 7 * NR + accColumn);
  }
}
