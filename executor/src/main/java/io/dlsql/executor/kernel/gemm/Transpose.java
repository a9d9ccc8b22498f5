package io.dlsql.executor.kernel.gemm;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * In-register transposes for {@link Packing} and implicit GEMM's weight gradient, on 16-float
 * vectors: a transpose of R rows is log2(R) rounds of zipping row {@code i} with row {@code i +
 * R/2} (each zip is one two-source permute), which beats moving the floats one at a time by a wide margin. Only used when the
 * preferred species has {@value #LANES} lanes; other machines take the callers' scalar loops.
 */
public final class Transpose {
  private Transpose() {}

  /** The lane count these transposes are written for. */
  public static final int LANES = 16;
  /** Whether the machine's preferred species is that wide. */
  public static final boolean AVAILABLE = MicroKernel.V == LANES;
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;
  /** Lanes 0..7 of a interleaved with lanes 0..7 of b (indices 16.. select from b). */
  private static final FloatVector ZIP_LOW = indices(0);
  /** Lanes 8..15 of a interleaved with lanes 8..15 of b. */
  private static final FloatVector ZIP_HIGH = indices(LANES / 2);
  /** Stands in for the rows past the edge, so a partial block comes out zero-padded. */
  private static final FloatVector ZERO = FloatVector.zero(SPECIES);

  private static FloatVector indices(int first) {
    float[] idx = new float[LANES];
    for (int i = 0; i < LANES / 2; i++) {
      idx[2 * i] = first + i;
      idx[2 * i + 1] = LANES + first + i;
    }
    return FloatVector.fromArray(SPECIES, idx, 0);
  }

  /**
   * Packs 16 k steps of an 8-row A sliver: reads 16 floats from each of the first {@code
   * live} (1 to 8) rows (at {@code offset + r * rowBytes}) and writes them k-major, 8 rows
   * per k step, as 128 contiguous floats at {@code dst[d]}; missing rows come out as zeros.
   */
  static void rows8x16(MemorySegment src, long offset, long rowBytes, int live, float[] dst, int d) {
    FloatVector x0 = FloatVector.fromMemorySegment(SPECIES, src, offset, TileStore.ORDER);
    FloatVector x1 = live > 1 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 1 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x2 = live > 2 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 2 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x3 = live > 3 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 3 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x4 = live > 4 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 4 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x5 = live > 5 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 5 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x6 = live > 6 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 6 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x7 = live > 7 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 7 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector s0_0 = ZIP_LOW.selectFrom(x0, x4);
    FloatVector s0_1 = ZIP_HIGH.selectFrom(x0, x4);
    FloatVector s0_2 = ZIP_LOW.selectFrom(x1, x5);
    FloatVector s0_3 = ZIP_HIGH.selectFrom(x1, x5);
    FloatVector s0_4 = ZIP_LOW.selectFrom(x2, x6);
    FloatVector s0_5 = ZIP_HIGH.selectFrom(x2, x6);
    FloatVector s0_6 = ZIP_LOW.selectFrom(x3, x7);
    FloatVector s0_7 = ZIP_HIGH.selectFrom(x3, x7);
    FloatVector s1_0 = ZIP_LOW.selectFrom(s0_0, s0_4);
    FloatVector s1_1 = ZIP_HIGH.selectFrom(s0_0, s0_4);
    FloatVector s1_2 = ZIP_LOW.selectFrom(s0_1, s0_5);
    FloatVector s1_3 = ZIP_HIGH.selectFrom(s0_1, s0_5);
    FloatVector s1_4 = ZIP_LOW.selectFrom(s0_2, s0_6);
    FloatVector s1_5 = ZIP_HIGH.selectFrom(s0_2, s0_6);
    FloatVector s1_6 = ZIP_LOW.selectFrom(s0_3, s0_7);
    FloatVector s1_7 = ZIP_HIGH.selectFrom(s0_3, s0_7);
    FloatVector s2_0 = ZIP_LOW.selectFrom(s1_0, s1_4);
    FloatVector s2_1 = ZIP_HIGH.selectFrom(s1_0, s1_4);
    FloatVector s2_2 = ZIP_LOW.selectFrom(s1_1, s1_5);
    FloatVector s2_3 = ZIP_HIGH.selectFrom(s1_1, s1_5);
    FloatVector s2_4 = ZIP_LOW.selectFrom(s1_2, s1_6);
    FloatVector s2_5 = ZIP_HIGH.selectFrom(s1_2, s1_6);
    FloatVector s2_6 = ZIP_LOW.selectFrom(s1_3, s1_7);
    FloatVector s2_7 = ZIP_HIGH.selectFrom(s1_3, s1_7);
    s2_0.intoArray(dst, d);
    s2_1.intoArray(dst, d + 1 * LANES);
    s2_2.intoArray(dst, d + 2 * LANES);
    s2_3.intoArray(dst, d + 3 * LANES);
    s2_4.intoArray(dst, d + 4 * LANES);
    s2_5.intoArray(dst, d + 5 * LANES);
    s2_6.intoArray(dst, d + 6 * LANES);
    s2_7.intoArray(dst, d + 7 * LANES);
  }

  /**
   * Transposes a 16 x 16 block: reads 16 floats from each of the first {@code live} (1 to
   * 16) rows (at {@code offset + r * rowBytes}) and writes column {@code q} as 16
   * contiguous floats at {@code d + q * dstStride}; missing rows come out as zeros.
   */
  public static void rows16x16(
      MemorySegment src, long offset, long rowBytes, int live, float[] dst, int d, int dstStride) {
    FloatVector x0 = FloatVector.fromMemorySegment(SPECIES, src, offset, TileStore.ORDER);
    FloatVector x1 = live > 1 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 1 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x2 = live > 2 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 2 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x3 = live > 3 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 3 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x4 = live > 4 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 4 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x5 = live > 5 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 5 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x6 = live > 6 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 6 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x7 = live > 7 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 7 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x8 = live > 8 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 8 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x9 = live > 9 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 9 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x10 = live > 10 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 10 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x11 = live > 11 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 11 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x12 = live > 12 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 12 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x13 = live > 13 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 13 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x14 = live > 14 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 14 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector x15 = live > 15 ? FloatVector.fromMemorySegment(SPECIES, src, offset + 15 * rowBytes, TileStore.ORDER) : ZERO;
    FloatVector s0_0 = ZIP_LOW.selectFrom(x0, x8);
    FloatVector s0_1 = ZIP_HIGH.selectFrom(x0, x8);
    FloatVector s0_2 = ZIP_LOW.selectFrom(x1, x9);
    FloatVector s0_3 = ZIP_HIGH.selectFrom(x1, x9);
    FloatVector s0_4 = ZIP_LOW.selectFrom(x2, x10);
    FloatVector s0_5 = ZIP_HIGH.selectFrom(x2, x10);
    FloatVector s0_6 = ZIP_LOW.selectFrom(x3, x11);
    FloatVector s0_7 = ZIP_HIGH.selectFrom(x3, x11);
    FloatVector s0_8 = ZIP_LOW.selectFrom(x4, x12);
    FloatVector s0_9 = ZIP_HIGH.selectFrom(x4, x12);
    FloatVector s0_10 = ZIP_LOW.selectFrom(x5, x13);
    FloatVector s0_11 = ZIP_HIGH.selectFrom(x5, x13);
    FloatVector s0_12 = ZIP_LOW.selectFrom(x6, x14);
    FloatVector s0_13 = ZIP_HIGH.selectFrom(x6, x14);
    FloatVector s0_14 = ZIP_LOW.selectFrom(x7, x15);
    FloatVector s0_15 = ZIP_HIGH.selectFrom(x7, x15);
    FloatVector s1_0 = ZIP_LOW.selectFrom(s0_0, s0_8);
    FloatVector s1_1 = ZIP_HIGH.selectFrom(s0_0, s0_8);
    FloatVector s1_2 = ZIP_LOW.selectFrom(s0_1, s0_9);
    FloatVector s1_3 = ZIP_HIGH.selectFrom(s0_1, s0_9);
    FloatVector s1_4 = ZIP_LOW.selectFrom(s0_2, s0_10);
    FloatVector s1_5 = ZIP_HIGH.selectFrom(s0_2, s0_10);
    FloatVector s1_6 = ZIP_LOW.selectFrom(s0_3, s0_11);
    FloatVector s1_7 = ZIP_HIGH.selectFrom(s0_3, s0_11);
    FloatVector s1_8 = ZIP_LOW.selectFrom(s0_4, s0_12);
    FloatVector s1_9 = ZIP_HIGH.selectFrom(s0_4, s0_12);
    FloatVector s1_10 = ZIP_LOW.selectFrom(s0_5, s0_13);
    FloatVector s1_11 = ZIP_HIGH.selectFrom(s0_5, s0_13);
    FloatVector s1_12 = ZIP_LOW.selectFrom(s0_6, s0_14);
    FloatVector s1_13 = ZIP_HIGH.selectFrom(s0_6, s0_14);
    FloatVector s1_14 = ZIP_LOW.selectFrom(s0_7, s0_15);
    FloatVector s1_15 = ZIP_HIGH.selectFrom(s0_7, s0_15);
    FloatVector s2_0 = ZIP_LOW.selectFrom(s1_0, s1_8);
    FloatVector s2_1 = ZIP_HIGH.selectFrom(s1_0, s1_8);
    FloatVector s2_2 = ZIP_LOW.selectFrom(s1_1, s1_9);
    FloatVector s2_3 = ZIP_HIGH.selectFrom(s1_1, s1_9);
    FloatVector s2_4 = ZIP_LOW.selectFrom(s1_2, s1_10);
    FloatVector s2_5 = ZIP_HIGH.selectFrom(s1_2, s1_10);
    FloatVector s2_6 = ZIP_LOW.selectFrom(s1_3, s1_11);
    FloatVector s2_7 = ZIP_HIGH.selectFrom(s1_3, s1_11);
    FloatVector s2_8 = ZIP_LOW.selectFrom(s1_4, s1_12);
    FloatVector s2_9 = ZIP_HIGH.selectFrom(s1_4, s1_12);
    FloatVector s2_10 = ZIP_LOW.selectFrom(s1_5, s1_13);
    FloatVector s2_11 = ZIP_HIGH.selectFrom(s1_5, s1_13);
    FloatVector s2_12 = ZIP_LOW.selectFrom(s1_6, s1_14);
    FloatVector s2_13 = ZIP_HIGH.selectFrom(s1_6, s1_14);
    FloatVector s2_14 = ZIP_LOW.selectFrom(s1_7, s1_15);
    FloatVector s2_15 = ZIP_HIGH.selectFrom(s1_7, s1_15);
    FloatVector s3_0 = ZIP_LOW.selectFrom(s2_0, s2_8);
    FloatVector s3_1 = ZIP_HIGH.selectFrom(s2_0, s2_8);
    FloatVector s3_2 = ZIP_LOW.selectFrom(s2_1, s2_9);
    FloatVector s3_3 = ZIP_HIGH.selectFrom(s2_1, s2_9);
    FloatVector s3_4 = ZIP_LOW.selectFrom(s2_2, s2_10);
    FloatVector s3_5 = ZIP_HIGH.selectFrom(s2_2, s2_10);
    FloatVector s3_6 = ZIP_LOW.selectFrom(s2_3, s2_11);
    FloatVector s3_7 = ZIP_HIGH.selectFrom(s2_3, s2_11);
    FloatVector s3_8 = ZIP_LOW.selectFrom(s2_4, s2_12);
    FloatVector s3_9 = ZIP_HIGH.selectFrom(s2_4, s2_12);
    FloatVector s3_10 = ZIP_LOW.selectFrom(s2_5, s2_13);
    FloatVector s3_11 = ZIP_HIGH.selectFrom(s2_5, s2_13);
    FloatVector s3_12 = ZIP_LOW.selectFrom(s2_6, s2_14);
    FloatVector s3_13 = ZIP_HIGH.selectFrom(s2_6, s2_14);
    FloatVector s3_14 = ZIP_LOW.selectFrom(s2_7, s2_15);
    FloatVector s3_15 = ZIP_HIGH.selectFrom(s2_7, s2_15);
    s3_0.intoArray(dst, d);
    s3_1.intoArray(dst, d + 1 * dstStride);
    s3_2.intoArray(dst, d + 2 * dstStride);
    s3_3.intoArray(dst, d + 3 * dstStride);
    s3_4.intoArray(dst, d + 4 * dstStride);
    s3_5.intoArray(dst, d + 5 * dstStride);
    s3_6.intoArray(dst, d + 6 * dstStride);
    s3_7.intoArray(dst, d + 7 * dstStride);
    s3_8.intoArray(dst, d + 8 * dstStride);
    s3_9.intoArray(dst, d + 9 * dstStride);
    s3_10.intoArray(dst, d + 10 * dstStride);
    s3_11.intoArray(dst, d + 11 * dstStride);
    s3_12.intoArray(dst, d + 12 * dstStride);
    s3_13.intoArray(dst, d + 13 * dstStride);
    s3_14.intoArray(dst, d + 14 * dstStride);
    s3_15.intoArray(dst, d + 15 * dstStride);
  }
}
