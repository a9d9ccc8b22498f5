package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.layout.LayoutConversion;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;

/**
 * (N, C, H, W) to (N, C*H*W) in NCHW order, so dense weights mean the same whatever layout the
 * images ran in: a copy from NCHW, a layout conversion from NHWC or NCHWc.
 */
public final class Flatten extends Layer {
  public Flatten(String name, int features) {
    super(name, new int[] {features});
  }

  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    if (inputs[0].layout() != Layout.NCHW) {
      LayoutConversion.convert(inputs[0], Tensor.wrap(output.segment(), inputs[0].shape()));
      return;
    }
    output.copyFrom(inputs[0]);
  }

  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    if (gradInputs[0] != null && gradInputs[0].layout() != Layout.NCHW) {
      LayoutConversion.convert(Tensor.wrap(gradOutput.segment(), gradInputs[0].shape()), gradInputs[0]);
    } else if (gradInputs[0] != null) {
      gradInputs[0].copyFrom(gradOutput);
    }
  }
}
