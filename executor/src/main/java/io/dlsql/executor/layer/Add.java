package io.dlsql.executor.layer;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Elementwise sum of two or more inputs of one shape (residual connections). */
public final class Add extends Layer {
  public Add(String name, int[] shape) {
    super(name, shape);
  }

  // y = x_0 + x_1 + ... (summed in input order)
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    MemorySegment y = output.segment();
    Elementwise.forEach(output.numel(), (from, to) -> {
      MemorySegment x0 = inputs[0].segment();
      for (long i = from; i < to; i++) {
        y.setAtIndex(F32, i, x0.getAtIndex(F32, i));
      }
      for (int k = 1; k < inputs.length; k++) {
        MemorySegment xk = inputs[k].segment();
        for (long i = from; i < to; i++) {
          y.setAtIndex(F32, i, y.getAtIndex(F32, i) + xk.getAtIndex(F32, i));
        }
      }
    });
  }

  // dx_k = dy for every input
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    for (Tensor dx : gradInputs) {
      if (dx != null) {
        dx.copyFrom(gradOutput);
      }
    }
  }
}
