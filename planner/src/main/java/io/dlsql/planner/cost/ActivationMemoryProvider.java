package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.kernel.pool.MaxPool2x2;
import io.dlsql.planner.Mode;
import io.dlsql.planner.logical.LogicalNode;

/**
 * What a node's forward keeps for its backward, per operator: convolution, dense and batchnorm
 * keep their input; activations keep their output; max pooling keeps argmax indices and dropout
 * its mask (private buffers); the rest keep nothing. Inference keeps nothing.
 */
public final class ActivationMemoryProvider {
  /** Batchnorm keeps mean and 1/sqrt(var + eps) per channel. */
  static final int BATCHNORM_SAVED_PER_CHANNEL = 2;

  /**
   * What one node saves for a batch.
   *
   * @param input whether it keeps its first input tensor
   * @param output whether it keeps its output tensor
   * @param privateBytes bytes of buffers only it holds (masks, indices, statistics)
   */
  public record Saved(boolean input, boolean output, long privateBytes) {
    public static final Saved NOTHING = new Saved(false, false, 0);
  }

  /** What {@code node} saves for {@code batch} samples in {@code mode}. */
  public Saved saved(LogicalNode node, int batch, Mode mode) {
    if (mode == Mode.INFER) {
      return Saved.NOTHING;
    }
    long elementBytes = BytesMovedProvider.ELEMENT_BYTES;
    return switch (node.spec()) {
      case LayerSpec.Conv2d c -> new Saved(true, false, 0);
      case LayerSpec.Dense d -> new Saved(true, false, 0);
      case LayerSpec.BatchNorm b ->
          new Saved(true, false, BATCHNORM_SAVED_PER_CHANNEL * node.outputShape()[0] * elementBytes);
      case LayerSpec.Activation a -> new Saved(false, true, 0);
      case LayerSpec.Pool p -> new Saved(false, false, p.max() ? maxPoolIndexBytes(p, node, batch) : 0);
      case LayerSpec.Dropout d -> new Saved(false, false, node.outputNumel() * batch * elementBytes);
      default -> Saved.NOTHING;
    };
  }

  /**
   * What training max pooling keeps for backward (NCHW, the layout training plans use): a 2x2
   * stride-2 window keeps 2 bits per output ({@code MaxPool2x2.recordInts}), any other window an
   * int index per output.
   */
  static long maxPoolIndexBytes(LayerSpec.Pool p, LogicalNode node, int batch) {
    int[] out = node.outputShape();
    if (pairWindow(p)) {
      return MaxPool2x2.recordInts((long) batch * out[0], out[1], out[2]) * Integer.BYTES;
    }
    return node.outputNumel() * batch * Integer.BYTES;
  }

  /** Whether the executor's 2x2 stride-2 max-pool kernel computes this window. */
  public static boolean pairWindow(LayerSpec.Pool p) {
    return p.max() && p.kernelH() == 2 && p.kernelW() == 2 && p.strideH() == 2 && p.strideW() == 2 && p.padH() == 0
        && p.padW() == 0;
  }

  /** Bytes of everything {@code node} saves, tensors it shares with others counted in full. */
  public long bytes(LogicalNode node, int batch, Mode mode) {
    Saved s = saved(node, batch, mode);
    long elementBytes = BytesMovedProvider.ELEMENT_BYTES;
    return s.privateBytes()
        + (s.input() ? node.inputNumel(0) * batch * elementBytes : 0)
        + (s.output() ? node.outputNumel() * batch * elementBytes : 0);
  }
}
