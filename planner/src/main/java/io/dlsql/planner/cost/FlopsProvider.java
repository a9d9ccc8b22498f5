package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.logical.LogicalNode;

/**
 * Floating-point operations of one node for one batch (a multiply-add counts two). Backward
 * counts the weight gradient always and the input gradient only when the input needs one (the
 * network input does not).
 */
public final class FlopsProvider {
  /** Per element, forward: ReLU compares; leaky ReLU compares and scales; sigmoid and tanh need an exp, a divide and adds. */
  static final int RELU_FORWARD = 1;
  static final int LEAKY_RELU_FORWARD = 2;
  static final int SIGMOID_TANH_FORWARD = 4;
  /** Per element, backward: a mask, a mask and scale, y(1-y) or 1-y^2 times dy. */
  static final int RELU_BACKWARD = 1;
  static final int LEAKY_RELU_BACKWARD = 2;
  static final int SIGMOID_TANH_BACKWARD = 3;
  /** Batchnorm per element: training forward takes mean and variance and normalises and scales (7); inference scales and shifts (2). */
  static final int BATCHNORM_TRAIN_FORWARD = 7;
  static final int BATCHNORM_INFER_FORWARD = 2;
  /** Batchnorm backward per element: two reductions and the input gradient. */
  static final int BATCHNORM_BACKWARD = 9;
  /** Dropout per element in training: draw the mask and multiply; backward multiplies. */
  static final int DROPOUT_TRAIN_FORWARD = 2;
  static final int DROPOUT_BACKWARD = 1;
  /** Multiply-add. */
  static final int FLOPS_PER_MAC = 2;

  /** Operations of {@code node} computed by {@code impl} for {@code batch} samples. */
  public long flops(LogicalNode node, Implementation impl, int batch, Direction direction,
      boolean inputNeedsGrad, FusionRole role) {
    if (role.folded()) {
      return 0;
    }
    long out = node.outputNumel();
    long in = node.inputNumel(0);
    boolean backward = direction == Direction.BACKWARD;
    long perSample = switch (node.spec()) {
      case LayerSpec.Conv2d c -> {
        ConvGeometry g = node.geometry();
        long macs = Math.round(g.macsPerImage() * impl.cost().multiplyFactor());
        long bias = c.bias() ? out : 0;
        yield backward
            ? FLOPS_PER_MAC * macs * (inputNeedsGrad ? 2 : 1) + bias
            : FLOPS_PER_MAC * macs + bias;
      }
      case LayerSpec.Dense d -> {
        long macs = in * d.units();
        long bias = d.bias() ? d.units() : 0;
        yield backward ? FLOPS_PER_MAC * macs * (inputNeedsGrad ? 2 : 1) + bias : FLOPS_PER_MAC * macs + bias;
      }
      case LayerSpec.Activation a -> out * switch (a.kind()) {
        case RELU -> backward ? RELU_BACKWARD : RELU_FORWARD;
        case LEAKY_RELU -> backward ? LEAKY_RELU_BACKWARD : LEAKY_RELU_FORWARD;
        default -> backward ? SIGMOID_TANH_BACKWARD : SIGMOID_TANH_FORWARD;
      };
      case LayerSpec.BatchNorm b -> out * switch (direction) {
        case FORWARD_TRAIN -> BATCHNORM_TRAIN_FORWARD;
        case FORWARD_INFER -> BATCHNORM_INFER_FORWARD;
        case BACKWARD -> BATCHNORM_BACKWARD;
      };
      case LayerSpec.Pool p -> {
        long window = (long) p.kernelH() * p.kernelW();
        // Max pooling routes each output gradient to one input; average spreads it over the window.
        yield backward && p.max() ? out : out * window;
      }
      case LayerSpec.GlobalAvgPool g -> in;
      case LayerSpec.Dropout d -> switch (direction) {
        case FORWARD_TRAIN -> DROPOUT_TRAIN_FORWARD * out;
        case FORWARD_INFER -> 0;
        case BACKWARD -> DROPOUT_BACKWARD * out;
      };
      // Add's backward hands the same gradient to every input: copies, no arithmetic.
      case LayerSpec.Add a -> backward ? 0 : out * (node.inputs().size() - 1);
      case LayerSpec.Concat c -> 0;
      case LayerSpec.Flatten f -> 0;
    };
    return perSample * batch;
  }
}
