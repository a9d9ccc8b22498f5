package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A fully connected layer with CSR weights (U, F): the batch is transposed to (F, N) so that
 * {@code y^T = W_csr * x^T + b} runs the same row kernel as sparse convolution over the batch, then
 * transposed back. Output units are split across threads.
 */
final class SparseDense implements GraphExecutor.NodeKernel {
  private static final int MIN_UNITS_PER_CHUNK = 16;

  private final int features;
  private final CsrMatrix weights;
  private final float[] bias;
  private final Arena arena = Arena.ofShared();
  private int capacity;
  private MemorySegment xT;
  private MemorySegment yT;

  SparseDense(int features, CsrMatrix weights, float[] bias) {
    if (weights.cols() != features) {
      throw new IllegalStateException("sparse weights of " + weights.cols() + " features for " + features);
    }
    this.features = features;
    this.weights = weights;
    this.bias = bias;
  }

  // x: (N, F) -> y: (N, U) = (W_csr x^T)^T + b
  @Override
  public void forward(Tensor[] inputs, Tensor output) {
    Tensor x = inputs[0];
    int n = x.dim(0);
    int units = weights.rows();
    if (n > capacity) {
      xT = arena.allocate((long) n * features * Float.BYTES, Long.BYTES);
      yT = arena.allocate((long) n * units * Float.BYTES, Long.BYTES);
      capacity = n;
    }
    MemorySegment xs = x.segment();
    MemorySegment ys = output.segment();
    MemorySegment xt = xT;
    MemorySegment yt = yT;
    transpose(xs, n, features, xt);
    boolean vector = Gemm.variant() == Gemm.Variant.VECTOR;
    Parallel.get().forRange(units, MIN_UNITS_PER_CHUNK, (chunk, from, to) ->
        weights.multiplyRows(from, to, n, xt, 0, n, yt, 0, n, bias, vector));
    transpose(yt, units, n, ys);
  }

  /** dst (cols x rows) = src (rows x cols)^T. */
  private static void transpose(MemorySegment src, int rows, int cols, MemorySegment dst) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        dst.setAtIndex(Tensor.F32, (long) c * rows + r, src.getAtIndex(Tensor.F32, (long) r * cols + c));
      }
    }
  }

  @Override
  public void close() {
    arena.close();
  }
}
