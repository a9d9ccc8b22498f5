package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.conv.Im2col;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A convolution with CSR weights (ungrouped): per image im2col (skipped for pointwise
 * convolutions), then {@code y = W_csr * col + b}, so the work is proportional to the non-zeros.
 * Images are split across threads, each with its own im2col buffer.
 */
final class SparseConv2d implements GraphExecutor.NodeKernel {
  private static final int MIN_IMAGES_PER_CHUNK = 1;

  private final ConvGeometry g;
  private final CsrMatrix weights;
  private final float[] bias;
  private final Arena arena = Arena.ofShared();
  private MemorySegment[] cols = new MemorySegment[0];

  SparseConv2d(ConvGeometry g, CsrMatrix weights, float[] bias) {
    if (g.groups() != 1 || weights.rows() != g.outChannels() || weights.cols() != g.colRows()) {
      throw new IllegalStateException("sparse convolution needs ungrouped weights of " + g);
    }
    this.g = g;
    this.weights = weights;
    this.bias = bias;
  }

  static boolean supports(ConvGeometry g) {
    return g.groups() == 1;
  }

  // x: (N, C, H, W) -> y: (N, OC, OH, OW) = W_csr * col(x) + b
  @Override
  public void forward(Tensor[] inputs, Tensor output) {
    Tensor x = inputs[0];
    int n = x.dim(0);
    Parallel pool = Parallel.get();
    int chunks = pool.chunks(n, MIN_IMAGES_PER_CHUNK);
    if (chunks > cols.length) {
      MemorySegment[] grown = java.util.Arrays.copyOf(cols, chunks);
      for (int c = cols.length; c < chunks; c++) {
        grown[c] = arena.allocate(Math.max(1, (long) g.colRows() * g.outPixels()) * Float.BYTES, Long.BYTES);
      }
      cols = grown;
    }
    MemorySegment xs = x.segment();
    MemorySegment ys = output.segment();
    long inSize = g.inputSize();
    long outSize = g.outputSize();
    int pixels = g.outPixels();
    boolean vector = Gemm.variant() == Gemm.Variant.VECTOR;
    pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
      for (int img = from; img < to; img++) {
        MemorySegment col = cols[chunk];
        long colOff = 0;
        if (g.isPointwise()) {
          col = xs;
          colOff = img * inSize;
        } else {
          Im2col.im2col(g, xs, img * inSize, col, 0);
        }
        weights.multiply(pixels, col, colOff, pixels, ys, img * outSize, pixels, bias, vector);
      }
    });
  }

  @Override
  public void close() {
    arena.close();
  }
}
