package io.dlsql.executor.layer;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.graph.Op;
import io.dlsql.executor.kernel.blocked.ChannelPadding;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Elementwise activations: ReLU, leaky ReLU, sigmoid and tanh, forward and backward together. */
public final class Activation extends Layer {
  private final Op kind;
  private final float slope;

  public Activation(String name, int[] shape, Op kind, double slope) {
    super(name, shape);
    if (kind != Op.RELU && kind != Op.LEAKY_RELU && kind != Op.SIGMOID && kind != Op.TANH) {
      throw new IllegalArgumentException("not an activation: " + kind);
    }
    this.kind = kind;
    this.slope = (float) slope;
  }

  public Op kind() {
    return kind;
  }

  // x: (N, ...) -> y: (N, ...), same shape
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    MemorySegment x = inputs[0].segment();
    MemorySegment y = output.segment();
    Elementwise.forEach(output.numel(), (from, to) -> {
      switch (kind) {
        case RELU -> ElementwiseKernels.relu(x, y, from, to);
        case LEAKY_RELU -> ElementwiseKernels.leakyRelu(x, y, slope, from, to);
        case SIGMOID -> {
          for (long i = from; i < to; i++) {
            y.setAtIndex(F32, i, (float) (1.0 / (1.0 + Math.exp(-x.getAtIndex(F32, i)))));
          }
        }
        case TANH -> {
          for (long i = from; i < to; i++) {
            y.setAtIndex(F32, i, (float) Math.tanh(x.getAtIndex(F32, i)));
          }
        }
        default -> throw new IllegalStateException(kind.toString());
      }
    });
    if (kind == Op.SIGMOID) {
      // sigmoid(0) is not 0: NCHWc's padding channels must stay zero.
      ChannelPadding.clear(output);
    }
  }

  // relu: dx = dy * [x > 0]; leaky: dx = dy * (x > 0 ? 1 : slope); sigmoid: dx = dy * y * (1 - y);
  // tanh: dx = dy * (1 - y^2)
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    if (gradInputs[0] == null) {
      return;
    }
    MemorySegment x = inputs[0].segment();
    MemorySegment y = output.segment();
    MemorySegment dy = gradOutput.segment();
    MemorySegment dx = gradInputs[0].segment();
    Elementwise.forEach(output.numel(), (from, to) -> {
      switch (kind) {
        case RELU -> ElementwiseKernels.reluBackward(x, dy, dx, from, to);
        case LEAKY_RELU -> ElementwiseKernels.leakyReluBackward(x, dy, dx, slope, from, to);
        case SIGMOID -> {
          for (long i = from; i < to; i++) {
            float s = y.getAtIndex(F32, i);
            dx.setAtIndex(F32, i, dy.getAtIndex(F32, i) * s * (1f - s));
          }
        }
        case TANH -> {
          for (long i = from; i < to; i++) {
            float t = y.getAtIndex(F32, i);
            dx.setAtIndex(F32, i, dy.getAtIndex(F32, i) * (1f - t * t));
          }
        }
        default -> throw new IllegalStateException(kind.toString());
      }
    });
  }
}
