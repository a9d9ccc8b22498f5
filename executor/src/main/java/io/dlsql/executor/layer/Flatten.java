package io.dlsql.executor.layer;

import io.dlsql.executor.tensor.Tensor;

/** (N, C, H, W) to (N, C*H*W): the same elements in the same order, so forward and backward copy. */
public final class Flatten extends Layer {
  public Flatten(String name, int features) {
    super(name, new int[] {features});
  }

  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    output.copyFrom(inputs[0]);
  }

  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    if (gradInputs[0] != null) {
      gradInputs[0].copyFrom(gradOutput);
    }
  }
}
