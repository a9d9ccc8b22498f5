package io.dlsql.executor.compress;

import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * A sparse matrix in compressed sparse row form: for row r, the non-zeros are {@code values[k]} at
 * columns {@code columns[k]} for {@code k} in {@code [rowStart[r], rowStart[r + 1])}. Its product
 * with a dense row-major matrix is the kernel of sparse convolution (weights x im2col matrix) and
 * sparse dense layers (weights x transposed batch).
 */
public record CsrMatrix(int rows, int cols, int[] rowStart, int[] columns, float[] values) {
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
  private static final int V = FLOATS.length();
  /** Accumulator vectors per row tile: the C tile stays in registers across a row's non-zeros. */
  private static final int TILE_VECTORS = 4;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  /** Column indices fit two bytes in storage when there are at most this many columns. */
  private static final int SHORT_INDEX_COLUMNS = 1 << Short.SIZE;

  /** The non-zeros of a row-major {@code rows x cols} matrix. */
  public static CsrMatrix fromDense(float[] dense, int rows, int cols) {
    if ((long) rows * cols != dense.length) {
      throw new IllegalArgumentException(dense.length + " values are not " + rows + " x " + cols);
    }
    int nnz = 0;
    for (float v : dense) {
      if (v != 0f) {
        nnz++;
      }
    }
    int[] start = new int[rows + 1];
    int[] idx = new int[nnz];
    float[] val = new float[nnz];
    int k = 0;
    for (int r = 0; r < rows; r++) {
      start[r] = k;
      for (int c = 0; c < cols; c++) {
        float v = dense[r * cols + c];
        if (v != 0f) {
          idx[k] = c;
          val[k++] = v;
        }
      }
    }
    start[rows] = k;
    return new CsrMatrix(rows, cols, start, idx, val);
  }

  /** Number of stored non-zeros. */
  public int nonZeros() {
    return values.length;
  }

  /** Fraction of entries stored. */
  public double density() {
    return rows == 0 || cols == 0 ? 0 : (double) values.length / ((long) rows * cols);
  }

  /** Bytes stored: fp32 values, column indices (2 bytes when the columns allow, else 4), row starts. */
  public long bytes() {
    int indexBytes = cols <= SHORT_INDEX_COLUMNS ? Short.BYTES : Integer.BYTES;
    return (long) values.length * (Float.BYTES + indexBytes) + (long) Integer.BYTES * (rows + 1);
  }

  /** The dense row-major matrix. */
  public float[] toDense() {
    float[] out = new float[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int k = rowStart[r]; k < rowStart[r + 1]; k++) {
        out[r * cols + columns[k]] = values[k];
      }
    }
    return out;
  }

  /**
   * {@code C[rows x n] = this * B[cols x n] (+ bias[r] on row r when bias is not null)}; B and C
   * row-major in segments with element offsets and leading dimensions. The reference walks each
   * row's non-zeros and adds scaled B rows; the vector path does the same per tile of C columns
   * held in registers.
   */
  public void multiply(int n, MemorySegment b, long bOff, int ldb, MemorySegment c, long cOff, int ldc,
      float[] bias, boolean vector) {
    multiplyRows(0, rows, n, b, bOff, ldb, c, cOff, ldc, bias, vector);
  }

  /** {@link #multiply} for rows {@code [from, to)} only (row r of C is still at {@code cOff + r * ldc}). */
  public void multiplyRows(int from, int to, int n, MemorySegment b, long bOff, int ldb, MemorySegment c,
      long cOff, int ldc, float[] bias, boolean vector) {
    if (vector) {
      multiplyVector(from, to, n, b, bOff, ldb, c, cOff, ldc, bias);
    } else {
      multiplyReference(from, to, n, b, bOff, ldb, c, cOff, ldc, bias);
    }
  }

  // C[r][j] = bias[r] + sum_k values[k] * B[columns[k]][j]
  private void multiplyReference(int first, int last, int n, MemorySegment b, long bOff, int ldb,
      MemorySegment c, long cOff, int ldc, float[] bias) {
    for (int r = first; r < last; r++) {
      long row = cOff + (long) r * ldc;
      float init = bias == null ? 0f : bias[r];
      for (int j = 0; j < n; j++) {
        c.setAtIndex(Tensor.F32, row + j, init);
      }
      for (int k = rowStart[r]; k < rowStart[r + 1]; k++) {
        float v = values[k];
        long src = bOff + (long) columns[k] * ldb;
        for (int j = 0; j < n; j++) {
          c.setAtIndex(Tensor.F32, row + j, c.getAtIndex(Tensor.F32, row + j) + v * b.getAtIndex(Tensor.F32, src + j));
        }
      }
    }
  }

  private void multiplyVector(int first, int last, int n, MemorySegment b, long bOff, int ldb,
      MemorySegment c, long cOff, int ldc, float[] bias) {
    int tile = TILE_VECTORS * V;
    for (int r = first; r < last; r++) {
      long row = cOff + (long) r * ldc;
      FloatVector init = FloatVector.broadcast(FLOATS, bias == null ? 0f : bias[r]);
      int from = rowStart[r];
      int to = rowStart[r + 1];
      int j = 0;
      for (; j + tile <= n; j += tile) {
        FloatVector a0 = init, a1 = init, a2 = init, a3 = init;
        for (int k = from; k < to; k++) {
          FloatVector v = FloatVector.broadcast(FLOATS, values[k]);
          long src = (bOff + (long) columns[k] * ldb + j) * Float.BYTES;
          a0 = FloatVector.fromMemorySegment(FLOATS, b, src, ORDER).fma(v, a0);
          a1 = FloatVector.fromMemorySegment(FLOATS, b, src + (long) V * Float.BYTES, ORDER).fma(v, a1);
          a2 = FloatVector.fromMemorySegment(FLOATS, b, src + 2L * V * Float.BYTES, ORDER).fma(v, a2);
          a3 = FloatVector.fromMemorySegment(FLOATS, b, src + 3L * V * Float.BYTES, ORDER).fma(v, a3);
        }
        long dst = (row + j) * Float.BYTES;
        a0.intoMemorySegment(c, dst, ORDER);
        a1.intoMemorySegment(c, dst + (long) V * Float.BYTES, ORDER);
        a2.intoMemorySegment(c, dst + 2L * V * Float.BYTES, ORDER);
        a3.intoMemorySegment(c, dst + 3L * V * Float.BYTES, ORDER);
      }
      for (; j < n; j += V) {
        VectorMask<Float> m = FLOATS.indexInRange(j, n);
        FloatVector a = init;
        for (int k = from; k < to; k++) {
          long src = (bOff + (long) columns[k] * ldb + j) * Float.BYTES;
          a = FloatVector.fromMemorySegment(FLOATS, b, src, ORDER, m).fma(FloatVector.broadcast(FLOATS, values[k]), a);
        }
        a.intoMemorySegment(c, (row + j) * Float.BYTES, ORDER, m);
      }
    }
  }
}
