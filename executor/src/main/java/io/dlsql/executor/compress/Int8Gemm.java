package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Gemm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Integer matrix multiply {@code C[m x n] (int32) = A[m x k] (int8) * B[k x n] (int8)}, row-major
 * in memory segments, offsets and leading dimensions in elements. Operands are symmetric int8 in
 * [-127, 127] (quantizers never produce -128). The Vector API has no dot-product instruction (VNNI
 * {@code vpdpbusd}/{@code vpdpwssd}), so {@link Variant#INT32} widens bytes to int32 lanes and
 * multiplies there. That caps it far below fp32: a 512-bit {@code vpmulld} issues at half the rate
 * of a 512-bit FMA on this machine (AMD EPYC, AVX-512 double-pumped), and the kernel measured
 * 10-16 GOP/s against 70-90 GFLOP/s for the fp32 GEMM on one thread. {@link Variant#FP32_EXACT}
 * (the default) runs the same integer arithmetic exactly on the FMA units and measured 62 GOP/s
 * against 68 GFLOP/s (64 x 196 x 800, the convnet's second convolution). (A variant that multiplied
 * in int16 lanes and widened pair sums ran at about 5 GOP/s, and its C2-compiled code crashed the
 * JVM once; it was dropped. C2's auto-vectorizer does turn the scalar idiom {@code c[j] += a[2j] *
 * b[2j] + a[2j+1] * b[2j+1]} over short arrays into pairwise multiply-adds (with VNNI {@code
 * vpdpwssd}), but only with the accumulators in memory: 16-19 GMAC/s on one core over L1-resident
 * arrays (bench/compress/SuperWordDot.java), 4 GMAC/s in a GEMM built on it, and four rows sharing
 * one operand's loads are not vectorized at all (2.2), against 44 for the fp32 GEMM on the
 * convnet's conv2 shape; written as dot-product reductions it is not vectorized either, 1.3-1.8
 * GMAC/s.) The
 * convolution and dense kernels go one step further than {@link Variant#FP32_EXACT}: they keep
 * the weight codes widened to fp32 and quantize activations straight to fp32 codes, so no
 * widening pass runs per call ({@link Int8Conv2d}, {@link Int8Dense}).
 */
public final class Int8Gemm {
  private Int8Gemm() {}

  /** The implementations; {@link #REFERENCE} is the oracle the others are checked against. */
  public enum Variant {
    /** Variant 0: plain loops, int32 accumulation. */
    REFERENCE,
    /** Bytes sign-extended to int32 lanes, {@code acc += a * b} in int32 (vpmulld + vpaddd). */
    INT32,
    /**
     * The codes widened to fp32 and multiplied by the fp32 GEMM ({@link Gemm#sgemm}) in blocks of
     * at most {@link #EXACT_K} steps: every partial sum is an integer below 2^24, so each block is
     * exact whatever the summation order, and blocks are added in int32. The same integers as
     * {@link #REFERENCE}, at the speed of the FMA units.
     */
    FP32_EXACT
  }

  /** Largest magnitude of an operand (symmetric quantizers never produce -128). */
  public static final int MAX_MAGNITUDE = 127;

  /**
   * Most k steps whose int8 products can be summed in fp32 without rounding: {@code EXACT_K *
   * 127^2 < 2^24}.
   */
  static final int EXACT_K = (1 << 24) / (MAX_MAGNITUDE * MAX_MAGNITUDE);

  /** Largest magnitude up to which fp32 holds every integer: a bound on partial sums that keeps them exact. */
  static final long EXACT_SUM = 1L << 24;

  private static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** int32 accumulator lanes; one byte per lane is loaded for them. */
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;
  private static final int L = INTS.length();
  private static final VectorSpecies<Byte> BYTES_FOR_INTS = ByteVector.SPECIES_128;
  /** Rows of A per register block: 4 rows x 2 vectors of int32 accumulators. */
  private static final int MR = 4;

  /** The variant that matches the GEMM switch: {@link Variant#REFERENCE} when kernels are scalar. */
  public static Variant defaultVariant() {
    return Gemm.variant() == Gemm.Variant.REFERENCE ? Variant.REFERENCE : Variant.FP32_EXACT;
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
      case FP32_EXACT -> fp32Exact(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
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

  /** Per thread: A and B widened to fp32, and one block's fp32 product. */
  private static final ThreadLocal<float[][]> EXACT_SCRATCH = ThreadLocal.withInitial(() -> new float[3][0]);

  private static void fp32Exact(
      int m, int n, int k, MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
      MemorySegment c, long cOff, int ldc) {
    float[][] scratch = EXACT_SCRATCH.get();
    int block = Math.min(k, EXACT_K);
    float[] fa = grow(scratch, 0, m * block);
    float[] fb = grow(scratch, 1, block * n);
    float[] fc = grow(scratch, 2, m * n);
    MemorySegment sa = MemorySegment.ofArray(fa);
    MemorySegment sb = MemorySegment.ofArray(fb);
    MemorySegment sc = MemorySegment.ofArray(fc);
    if (k == 0) {
      for (int i = 0; i < m; i++) {
        c.asSlice((cOff + (long) i * ldc) * Integer.BYTES, (long) n * Integer.BYTES).fill((byte) 0);
      }
      return;
    }
    for (int p0 = 0; p0 < k; p0 += block) {
      int kb = Math.min(block, k - p0);
      for (int i = 0; i < m; i++) {
        widenRow(a, aOff + (long) i * lda + p0, fa, i * kb, kb);
      }
      for (int p = 0; p < kb; p++) {
        widenRow(b, bOff + (long) (p0 + p) * ldb, fb, p * n, n);
      }
      Gemm.sgemm(false, false, m, n, kb, 1f, sa, 0, kb, sb, 0, n, 0f, sc, 0, n);
      for (int i = 0; i < m; i++) {
        long row = cOff + (long) i * ldc;
        for (int j = 0; j < n; j++) {
          int v = (int) fc[i * n + j];
          c.setAtIndex(I32, row + j, p0 == 0 ? v : c.getAtIndex(I32, row + j) + v);
        }
      }
    }
  }

  /**
   * {@code acc[i] = (first ? 0 : acc[i]) + (int) sums[sumsOff + i]} for {@code count} fp32 block
   * sums that hold exact integers (element offsets): how k-blocks of the fp32 lowering add up.
   */
  static void addExactSums(MemorySegment sums, long sumsOff, MemorySegment acc, long count, boolean first) {
    long i = 0;
    if (Gemm.variant() == Gemm.Variant.VECTOR) {
      for (; i + L <= count; i += L) {
        IntVector v = (IntVector) jdk.incubator.vector.FloatVector.fromMemorySegment(
            jdk.incubator.vector.FloatVector.SPECIES_512, sums, (sumsOff + i) * Float.BYTES, ORDER)
            .convert(VectorOperators.F2I, 0);
        if (!first) {
          v = v.add(IntVector.fromMemorySegment(INTS, acc, i * Integer.BYTES, ORDER));
        }
        v.intoMemorySegment(acc, i * Integer.BYTES, ORDER);
      }
    }
    for (; i < count; i++) {
      int v = (int) sums.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, sumsOff + i);
      acc.setAtIndex(I32, i, first ? v : acc.getAtIndex(I32, i) + v);
    }
  }

  private static float[] grow(float[][] scratch, int slot, int size) {
    if (scratch[slot].length < size) {
      scratch[slot] = new float[size];
    }
    return scratch[slot];
  }

  /** dst[at, at + count) = the int8 values at src[from, from + count) as floats. */
  private static void widenRow(MemorySegment src, long from, float[] dst, int at, int count) {
    int j = 0;
    for (; j + L <= count; j += L) {
      ((jdk.incubator.vector.FloatVector) load(src, from + j).convertShape(VectorOperators.B2F,
          jdk.incubator.vector.FloatVector.SPECIES_512, 0)).intoArray(dst, at + j);
    }
    for (; j < count; j++) {
      dst[at + j] = src.get(I8, from + j);
    }
  }

  private static ByteVector load(MemorySegment b, long at) {
    return ByteVector.fromMemorySegment(BYTES_FOR_INTS, b, at, ORDER);
  }

  private static ByteVector load(MemorySegment b, long at, VectorMask<Byte> mask) {
    return ByteVector.fromMemorySegment(BYTES_FOR_INTS, b, at, ORDER, mask);
  }

  private static IntVector widen(ByteVector v) {
    return (IntVector) v.convertShape(VectorOperators.B2I, INTS, 0);
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
