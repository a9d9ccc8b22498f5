package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.blocked.BlockedConcat;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Concatenation along the channel axis. With channels outermost in a sample, each input fills one
 * contiguous block of every output sample, so forward and backward are block copies.
 */
public final class Concat extends Layer {
  /** Floats per sample of each input. */
  private final long[] partSizes;
  /** Channels of each input. */
  private final int[] partChannels;

  public Concat(String name, int[][] inputShapes, int[] shape) {
    super(name, shape);
    partSizes = new long[inputShapes.length];
    partChannels = new int[inputShapes.length];
    for (int k = 0; k < inputShapes.length; k++) {
      long size = 1;
      for (int d : inputShapes[k]) {
        size *= d;
      }
      partSizes[k] = size;
      partChannels[k] = inputShapes[k][0];
    }
  }

  // x_k: (N, C_k, H, W) -> y: (N, sum C_k, H, W)
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    copyBlocks(inputs, output, true);
  }

  // dx_k = dy[:, channels of input k]
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    copyBlocks(gradInputs, gradOutput, false);
  }

  private void copyBlocks(Tensor[] parts, Tensor whole, boolean intoWhole) {
    if (whole.layout() != Layout.NCHW) {
      BlockedConcat.copy(parts, partChannels, whole, intoWhole);
      return;
    }
    int n = whole.dim(0);
    long wholeBytes = whole.sampleSize() * Float.BYTES;
    MemorySegment w = whole.segment();
    long offset = 0;
    for (int k = 0; k < parts.length; k++) {
      long partBytes = partSizes[k] * Float.BYTES;
      if (parts[k] != null) {
        MemorySegment p = parts[k].segment();
        for (int s = 0; s < n; s++) {
          if (intoWhole) {
            MemorySegment.copy(p, s * partBytes, w, s * wholeBytes + offset, partBytes);
          } else {
            MemorySegment.copy(w, s * wholeBytes + offset, p, s * partBytes, partBytes);
          }
        }
      }
      offset += partBytes;
    }
  }
}
