package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.layout.LayoutConversion;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

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
    copy(inputs[0], output);
  }

  /** dst = src on all threads (the same bytes as {@link Tensor#copyFrom}). */
  private static void copy(Tensor src, Tensor dst) {
    if (src.numel() != dst.numel()) {
      throw new IllegalStateException("flatten of " + src + " into " + dst);
    }
    MemorySegment from = src.segment();
    MemorySegment to = dst.segment();
    Elementwise.forEach(src.numel(), (a, b) ->
        MemorySegment.copy(from, a * Float.BYTES, to, a * Float.BYTES, (b - a) * Float.BYTES));
  }

  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    if (gradInputs[0] != null && gradInputs[0].layout() != Layout.NCHW) {
      LayoutConversion.convert(Tensor.wrap(gradOutput.segment(), gradInputs[0].shape()), gradInputs[0]);
    } else if (gradInputs[0] != null) {
      copy(gradOutput, gradInputs[0]);
    }
  }
}
