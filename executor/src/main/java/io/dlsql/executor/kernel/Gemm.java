package io.dlsql.executor.kernel;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.kernel.gemm.VectorGemm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * Single-precision general matrix multiply, {@code C = alpha * op(A) * op(B) + beta * C}, on
 * row-major matrices held in memory segments (offsets and leading dimensions in floats). This is
 * the entry point every layer calls; it checks the arguments and dispatches to the selected {@link
 * Variant}, which tests and the "Vector API off" suite run can switch.
 */
public final class Gemm {
  private Gemm() {}

  static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  /** System property that selects the variant at startup: {@code reference} or {@code vector}. */
  public static final String VARIANT_PROPERTY = "dlsql.kernels";

  /** The implementations {@link #sgemm} can dispatch to. */
  public enum Variant {
    /** {@link ReferenceGemm}: plain loops, the oracle every other variant is checked against. */
    REFERENCE,
    /** {@link VectorGemm}: packed, cache-blocked, register-blocked Vector API kernel, multi-threaded. */
    VECTOR;

    /**
     * The variant a value of {@link #VARIANT_PROPERTY} names: {@code reference} (or {@code
     * scalar}) or {@code vector}, in any case; empty means the default, {@code vector}.
     *
     * @throws UserException for any other value
     */
    public static Variant parse(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      return switch (v) {
        case "reference", "scalar" -> REFERENCE;
        case "vector", "" -> VECTOR;
        default ->
            throw new UserException(
                "system property "
                    + VARIANT_PROPERTY
                    + " must be 'reference' or 'vector', got '"
                    + value
                    + "'");
      };
    }
  }

  private static volatile Variant variant = Variant.parse(System.getProperty(VARIANT_PROPERTY, ""));

  /** The variant {@link #sgemm} uses now. */
  public static Variant variant() {
    return variant;
  }

  /** Makes {@link #sgemm} use {@code v} from now on (all threads). */
  public static void setVariant(Variant v) {
    if (v == null) {
      throw new IllegalArgumentException("GEMM variant must not be null");
    }
    variant = v;
  }

  /**
   * {@code C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C}. With {@code transA}, A is
   * stored k x m (row-major, leading dimension lda); likewise B is stored n x k with {@code transB}.
   * With {@code beta == 0} C is not read (it may hold garbage); with {@code alpha == 0} or {@code k
   * == 0} A and B are not read. Segments may be native or heap-backed; if any of them belongs to a
   * confined arena the call runs on the calling thread only (the pool's threads may not touch it).
   *
   * @throws IllegalArgumentException if a size is negative, a leading dimension is smaller than
   *     the stored row width, or a matrix does not fit in its segment
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
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException(
          "GEMM sizes must be non-negative, got m=" + m + " n=" + n + " k=" + k);
    }
    boolean readsAB = k > 0 && alpha != 0f && m > 0 && n > 0;
    if (readsAB) {
      checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
      checkMatrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
    }
    checkMatrix("C", c, cOff, ldc, m, n);
    switch (variant) {
      case REFERENCE ->
          ReferenceGemm.sgemm(
              transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
      case VECTOR ->
          VectorGemm.sgemm(
              transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }
  }

  /** Checks that a stored {@code rows x cols} row-major matrix at {@code offset} fits {@code seg}. */
  private static void checkMatrix(
      String name, MemorySegment seg, long offset, int ld, int rows, int cols) {
    if (rows == 0 || cols == 0) {
      return;
    }
    if (seg == null) {
      throw new IllegalArgumentException("GEMM matrix " + name + " is null");
    }
    if (offset < 0) {
      throw new IllegalArgumentException("GEMM offset of " + name + " is negative: " + offset);
    }
    if (ld < cols) {
      throw new IllegalArgumentException(
          "GEMM leading dimension of " + name + " is " + ld + ", less than its row width " + cols);
    }
    long last = offset + (long) (rows - 1) * ld + cols;
    long available = seg.byteSize() / Float.BYTES;
    if (last > available) {
      throw new IllegalArgumentException(
          "GEMM matrix "
              + name
              + " ("
              + rows
              + " x "
              + cols
              + ", leading dimension "
              + ld
              + ", offset "
              + offset
              + ") needs "
              + last
              + " floats but its segment holds "
              + available);
    }
  }
}
