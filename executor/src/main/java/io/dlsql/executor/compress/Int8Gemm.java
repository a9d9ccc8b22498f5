package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Gemm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Integer matrix multiply {@code C[m x n] (int32) = A[m x k] (int8) * B[k x n] (int8)}, row-major
 * in memory segments, offsets and leading dimensions in elements. Operands are symmetric int8 in
 * [-127, 127] (quantizers never produce -128), which is what lets {@link Variant#INT16_PAIRS} sum
 * two products in 16 bits. The Vector API has no dot-product instruction (VNNI {@code vpdpbusd}),
 * so the fast variants widen: bytes to int32 lanes and multiply there ({@link Variant#INT32}), or
 * bytes to int16 lanes, multiply, add two k steps, then widen the sums to int32 ({@link
 * Variant#INT16_PAIRS}).
 */
public final class Int8Gemm {
  private Int8Gemm() {}

  /** The implementations; {@link #REFERENCE} is the oracle the others are checked against. */
  public enum Variant {
    /** Variant 0: plain loops, int32 accumulation. */
    REFERENCE,
    /** Bytes sign-extended to int32 lanes, {@code acc += a * b} in int32 (vpmulld + vpaddd). */
    INT32,
    /** Bytes sign-extended to int16 lanes, two k steps multiplied and added in int16, widened once per pair. */
    INT16_PAIRS
  }

  /** Largest magnitude of an operand: two products of it still fit a signed 16-bit sum. */
  public static final int MAX_MAGNITUDE = 127;

  private static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** int32 accumulator lanes; one byte per lane is loaded for them. */
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;
  private static final int L = INTS.length();
  private static final VectorSpecies<Byte> BYTES_FOR_INTS = ByteVector.SPECIES_128;
  /** int16 lanes for {@link Variant#INT16_PAIRS}: twice as many as int32 lanes. */
  private static final VectorSpecies<Short> SHORTS = ShortVector.SPECIES_512;
  private static final VectorSpecies<Byte> BYTES_FOR_SHORTS = ByteVector.SPECIES_256;
  /** Rows of A per register block: 4 rows x 2 vectors of int32 accumulators. */
  private static final int MR = 4;

  /** The variant that matches the GEMM switch: {@link Variant#REFERENCE} when kernels are scalar. */
  public static Variant defaultVariant() {
    return Gemm.variant() == Gemm.Variant.REFERENCE ? Variant.REFERENCE : Variant.INT32;
  }

  /**
   * {@code C = A * B} (C overwritten). A: {@code m x k} at {@code aOff}, rows {@code lda} apart;
   * B: {@code k x n} at {@code bOff}, rows {@code ldb} apart; C: int32 {@code m x n} at {@code
   * cOff} (in ints), rows {@code ldc} apart.
   */
  public static void multiply(
      Variant variant, int m, int n, int k,
      MemorySegment a, long aOff, int lda,
      MemorySegment b, long bOff, int ldb,
      MemorySegment c, long cOff, int ldc) {
    if (m < 0 || n < 0 || k < 0 || lda < k || ldb < n || ldc < n) {
      throw new IllegalArgumentException(
          "int8 GEMM sizes m=" + m + " n=" + n + " k=" + k + " with lda=" + lda + " ldb=" + ldb + " ldc=" + ldc);
    }
    switch (variant) {
      case REFERENCE -> reference(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
      case INT32 -> int32Lanes(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
      case INT16_PAIRS -> int16Pairs(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }
  }

  // C[i][j] = sum_p A[i][p] * B[p][j], all in int32.
  static void reference(
      int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
      MemorySegment c, long cOff, int ldc) {
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        int sum = 0;
        for (int p = 0; p < k; p++) {
          sum += a.get(I8, aOff + (long) i * lda + p) * b.get(I8, bOff + (long) p * ldb + j);
        }
        c.setAtIndex(I32, cOff + (long) i * ldc + j, sum);
      }
    }
  }

  /**
   * Register block of {@link #MR} rows x 2 vectors: per k step two B loads widened to int32 are
   * shared by four broadcast A values, 8 multiplies and 8 adds; the column tail is masked.
   */
  private static void int32Lanes(
      int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
      MemorySegment c, long cOff, int ldc) {
    for (int j = 0; j < n; j += 2 * L) {
      VectorMask<Byte> m0 = BYTES_FOR_INTS.indexInRange(j, n);
      VectorMask<Byte> m1 = BYTES_FOR_INTS.indexInRange(j + L, n);
      boolean full = j + 2 * L <= n;
      int i = 0;
      for (; i + MR <= m; i += MR) {
        IntVector c00 = IntVector.zero(INTS), c01 = IntVector.zero(INTS);
        IntVector c10 = IntVector.zero(INTS), c11 = IntVector.zero(INTS);
        IntVector c20 = IntVector.zero(INTS), c21 = IntVector.zero(INTS);
        IntVector c30 = IntVector.zero(INTS), c31 = IntVector.zero(INTS);
        long a0 = aOff + (long) i * lda;
        for (int p = 0; p < k; p++) {
          long row = bOff + (long) p * ldb + j;
          IntVector b0 = widen(full ? load(b, row) : load(b, row, m0));
          IntVector b1 = widen(full ? load(b, row + L) : load(b, row + L, m1));
          int w0 = a.get(I8, a0 + p);
          int w1 = a.get(I8, a0 + lda + p);
          int w2 = a.get(I8, a0 + 2L * lda + p);
          int w3 = a.get(I8, a0 + 3L * lda + p);
          c00 = c00.add(b0.mul(w0));
          c01 = c01.add(b1.mul(w0));
          c10 = c10.add(b0.mul(w1));
          c11 = c11.add(b1.mul(w1));
          c20 = c20.add(b0.mul(w2));
          c21 = c21.add(b1.mul(w2));
          c30 = c30.add(b0.mul(w3));
          c31 = c31.add(b1.mul(w3));
        }
        long out = cOff + (long) i * ldc + j;
        store(c00, c01, c, out, j, n);
        store(c10, c11, c, out + ldc, j, n);
        store(c20, c21, c, out + 2L * ldc, j, n);
        store(c30, c31, c, out + 3L * ldc, j, n);
      }
      for (; i < m; i++) {
        IntVector c0 = IntVector.zero(INTS), c1 = IntVector.zero(INTS);
        long ai = aOff + (long) i * lda;
        for (int p = 0; p < k; p++) {
          long row = bOff + (long) p * ldb + j;
          int w = a.get(I8, ai + p);
          c0 = c0.add(widen(full ? load(b, row) : load(b, row, m0)).mul(w));
          c1 = c1.add(widen(full ? load(b, row + L) : load(b, row + L, m1)).mul(w));
        }
        store(c0, c1, c, cOff + (long) i * ldc + j, j, n);
      }
    }
  }

  /**
   * Register block of {@link #MR} rows x 2 int32 vectors (one int16 vector of 2L columns): per
   * pair of k steps, two B rows widened to int16, per row two int16 multiplies and one add (at most
   * 2 * 127 * 127 = 32258, no overflow), then the sum widened to int32 in two halves and added.
   */
  private static void int16Pairs(
      int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
      MemorySegment c, long cOff, int ldc) {
    int kEven = k & ~1;
    for (int j = 0; j < n; j += 2 * L) {
      VectorMask<Byte> mask = BYTES_FOR_SHORTS.indexInRange(j, n);
      boolean full = j + 2 * L <= n;
      int i = 0;
      for (; i + MR <= m; i += MR) {
        IntVector c00 = IntVector.zero(INTS), c01 = IntVector.zero(INTS);
        IntVector c10 = IntVector.zero(INTS), c11 = IntVector.zero(INTS);
        IntVector c20 = IntVector.zero(INTS), c21 = IntVector.zero(INTS);
        IntVector c30 = IntVector.zero(INTS), c31 = IntVector.zero(INTS);
        long a0 = aOff + (long) i * lda;
        for (int p = 0; p < k; p += 2) {
          long row = bOff + (long) p * ldb + j;
          ShortVector b0 = widenShort(full ? loadPair(b, row) : loadPair(b, row, mask));
          boolean pair = p < kEven;
          ShortVector b1 = pair ? widenShort(full ? loadPair(b, row + ldb) : loadPair(b, row + ldb, mask)) : null;
          ShortVector s0 = pairSum(b0, b1, a, a0 + p, pair);
          ShortVector s1 = pairSum(b0, b1, a, a0 + lda + p, pair);
          ShortVector s2 = pairSum(b0, b1, a, a0 + 2L * lda + p, pair);
          ShortVector s3 = pairSum(b0, b1, a, a0 + 3L * lda + p, pair);
          c00 = c00.add(low(s0));
          c01 = c01.add(high(s0));
          c10 = c10.add(low(s1));
          c11 = c11.add(high(s1));
          c20 = c20.add(low(s2));
          c21 = c21.add(high(s2));
          c30 = c30.add(low(s3));
          c31 = c31.add(high(s3));
        }
        long out = cOff + (long) i * ldc + j;
        store(c00, c01, c, out, j, n);
        store(c10, c11, c, out + ldc, j, n);
        store(c20, c21, c, out + 2L * ldc, j, n);
        store(c30, c31, c, out + 3L * ldc, j, n);
      }
      for (; i < m; i++) {
        IntVector c0 = IntVector.zero(INTS), c1 = IntVector.zero(INTS);
        long ai = aOff + (long) i * lda;
        for (int p = 0; p < k; p += 2) {
          long row = bOff + (long) p * ldb + j;
          ShortVector b0 = widenShort(full ? loadPair(b, row) : loadPair(b, row, mask));
          boolean pair = p < kEven;
          ShortVector b1 = pair ? widenShort(full ? loadPair(b, row + ldb) : loadPair(b, row + ldb, mask)) : null;
          ShortVector s = pairSum(b0, b1, a, ai + p, pair);
          c0 = c0.add(low(s));
          c1 = c1.add(high(s));
        }
        store(c0, c1, c, cOff + (long) i * ldc + j, j, n);
      }
    }
  }

  private static ShortVector pairSum(ShortVector b0, ShortVector b1, MemorySegment a, long at, boolean pair) {
    ShortVector s = b0.mul((short) a.get(I8, at));
    return pair ? s.add(b1.mul((short) a.get(I8, at + 1))) : s;
  }

  private static ByteVector load(MemorySegment b, long at) {
    return ByteVector.fromMemorySegment(BYTES_FOR_INTS, b, at, ORDER);
  }

  private static ByteVector load(MemorySegment b, long at, VectorMask<Byte> mask) {
    return ByteVector.fromMemorySegment(BYTES_FOR_INTS, b, at, ORDER, mask);
  }

  private static ByteVector loadPair(MemorySegment b, long at) {
    return ByteVector.fromMemorySegment(BYTES_FOR_SHORTS, b, at, ORDER);
  }

  private static ByteVector loadPair(MemorySegment b, long at, VectorMask<Byte> mask) {
    return ByteVector.fromMemorySegment(BYTES_FOR_SHORTS, b, at, ORDER, mask);
  }

  private static IntVector widen(ByteVector v) {
    return (IntVector) v.convertShape(VectorOperators.B2I, INTS, 0);
  }

  private static ShortVector widenShort(ByteVector v) {
    return (ShortVector) v.convertShape(VectorOperators.B2S, SHORTS, 0);
  }

  private static IntVector low(ShortVector s) {
    return (IntVector) s.convertShape(VectorOperators.S2I, INTS, 0);
  }

  private static IntVector high(ShortVector s) {
    return (IntVector) s.convertShape(VectorOperators.S2I, INTS, 1);
  }

  /** Stores two accumulator vectors covering columns {@code [j, j + 2L)}, masked past {@code n}. */
  private static void store(IntVector v0, IntVector v1, MemorySegment c, long at, int j, int n) {
    long bytes = at * Integer.BYTES;
    if (j + 2 * L <= n) {
      v0.intoMemorySegment(c, bytes, ORDER);
      v1.intoMemorySegment(c, bytes + (long) L * Integer.BYTES, ORDER);
      return;
    }
    v0.intoMemorySegment(c, bytes, ORDER, INTS.indexInRange(j, n));
    v1.intoMemorySegment(c, bytes + (long) L * Integer.BYTES, ORDER, INTS.indexInRange(j + L, n));
  }
}
