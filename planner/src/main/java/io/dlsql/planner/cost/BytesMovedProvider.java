package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.logical.LogicalNode;

/**
 * Bytes one node reads and writes in main memory for one batch: activations per sample, weights
 * once per batch, and the implementation's own traffic (the im2col matrix written and read).
 * Fusion removes the read of a member's first input and the write of every output but the last.
 */
public final class BytesMovedProvider {
  /** fp32 elements. */
  public static final int ELEMENT_BYTES = Float.BYTES;
  /** Training batchnorm reads its input twice: once for the statistics, once to normalise. */
  static final int BATCHNORM_TRAIN_INPUT_READS = 2;
  /** Backward of im2col convolution builds the column matrix again and writes its gradient. */
  static final int BACKWARD_TRAFFIC_PASSES = 2;
  /** Batchnorm parameters and statistics per channel: scale, shift, mean, variance. */
  static final int BATCHNORM_VALUES_PER_CHANNEL = 4;

  /** Bytes moved by {@code node} under {@code impl} for {@code batch} samples. */
  public long bytes(LogicalNode node, Implementation impl, int batch, Direction direction,
      boolean inputNeedsGrad, FusionRole role) {
    if (role.folded()) {
      return 0;
    }
    long out = node.outputNumel();
    long firstIn = node.inputNumel(0);
    long otherIns = 0;
    for (int slot = 1; slot < node.inputs().size(); slot++) {
      otherIns += node.inputNumel(slot);
    }
    long weights = weightCount(node);
    long traffic = impl.cost().extraTrafficFloats().applyAsLong(node);
    long perSample;
    long perBatch;
    if (direction != Direction.BACKWARD) {
      long reads = (role.readsFirstInput() ? firstIn : 0) + otherIns;
      if (direction == Direction.FORWARD_TRAIN && node.spec() instanceof LayerSpec.BatchNorm) {
        reads += (BATCHNORM_TRAIN_INPUT_READS - 1) * firstIn;
      }
      long writes = role.writesOutput() ? out : 0;
      if (direction == Direction.FORWARD_TRAIN) {
        writes += savedPrivateElements(node);
      }
      perSample = reads + writes + traffic;
      perBatch = weights;
    } else {
      long gradInputs = 0;
      for (int slot = 0; slot < node.inputs().size(); slot++) {
        if (slot > 0 || inputNeedsGrad) {
          gradInputs += node.inputNumel(slot);
        }
      }
      long savedReads = switch (node.spec()) {
        case LayerSpec.Conv2d c -> firstIn;
        case LayerSpec.Dense d -> firstIn;
        case LayerSpec.BatchNorm b -> firstIn;
        case LayerSpec.Activation a -> out;
        default -> savedPrivateElements(node);
      };
      perSample = out + savedReads + gradInputs + BACKWARD_TRAFFIC_PASSES * traffic;
      // Weights are read for the input gradient; weight gradients are written.
      perBatch = 2 * weights;
    }
    return (perSample * batch + perBatch) * ELEMENT_BYTES;
  }

  /** Elements of a node's parameters (and batchnorm's statistics). */
  public static long weightCount(LogicalNode node) {
    return switch (node.spec()) {
      case LayerSpec.Conv2d c -> node.geometry().weightCount() + (c.bias() ? c.outChannels() : 0);
      case LayerSpec.Dense d -> node.inputNumel(0) * d.units() + (d.bias() ? d.units() : 0);
      case LayerSpec.BatchNorm b -> (long) BATCHNORM_VALUES_PER_CHANNEL * node.outputShape()[0];
      default -> 0;
    };
  }

  /** Trainable parameter elements (batchnorm's running statistics are not trained). */
  public static long trainableCount(LogicalNode node) {
    return switch (node.spec()) {
      case LayerSpec.BatchNorm b -> 2L * node.outputShape()[0];
      default -> weightCount(node);
    };
  }

  /** Elements a training forward writes for backward besides the output: masks and argmax indices (4 bytes each). */
  static long savedPrivateElements(LogicalNode node) {
    return switch (node.spec()) {
      case LayerSpec.Pool p -> p.max() ? node.outputNumel() : 0;
      case LayerSpec.Dropout d -> node.outputNumel();
      default -> 0;
    };
  }
}
