package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
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
      case LayerSpec.Pool p ->
          new Saved(false, false, p.max() ? node.outputNumel() * batch * Integer.BYTES : 0);
      case LayerSpec.Dropout d -> new Saved(false, false, node.outputNumel() * batch * elementBytes);
      default -> Saved.NOTHING;
    };
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
