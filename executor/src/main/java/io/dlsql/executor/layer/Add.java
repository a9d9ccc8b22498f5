package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Elementwise sum of two or more inputs of one shape (residual connections), optionally with an
 * activation fused into the same pass.
 */
public final class Add extends Layer {
  private FusedActivation activation = FusedActivation.IDENTITY;

  public Add(String name, int[] shape) {
    super(name, shape);
  }

  // y = x_0 + x_1 + ... (summed in input order)
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    for (Tensor x : inputs) {
      if (x.layout() != output.layout()) {
        throw new IllegalStateException("add of a " + x.layout() + " input into a " + output.layout() + " output");
      }
    }
    MemorySegment y = output.segment();
    Elementwise.forEach(output.numel(), (from, to) -> {
      ElementwiseKernels.add(inputs[0].segment(), inputs[1].segment(), y,
          inputs.length == 2 ? activation : FusedActivation.IDENTITY, from, to);
      for (int k = 2; k < inputs.length; k++) {
        ElementwiseKernels.add(y, inputs[k].segment(), y,
            k == inputs.length - 1 ? activation : FusedActivation.IDENTITY, from, to);
      }
    });
  }

  // dx_k = act'(y) * dy for every input
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    int wanted = 0;
    for (Tensor dx : gradInputs) {
      wanted += dx == null ? 0 : 1;
    }
    if (wanted == 0) {
      return;
    }
    MemorySegment[] targets = new MemorySegment[wanted];
    int t = 0;
    for (Tensor dx : gradInputs) {
      if (dx != null) {
        targets[t++] = dx.segment();
      }
    }
    MemorySegment y = output.segment();
    MemorySegment dy = gradOutput.segment();
    boolean relu = activation == FusedActivation.RELU;
    // One pass on all threads that reads dy (and y) once and writes every gradient.
    Elementwise.forEach(output.numel(), (from, to) ->
        ElementwiseKernels.gradientToAll(y, dy, targets, relu, from, to));
  }

  /** The activation applied to the sum (a residual block's closing ReLU), identity by default. */
  public FusedActivation fusedActivation() {
    return activation;
  }

  /** Fuses {@code act} into the sum: the layer then computes {@code act(x_0 + x_1 + ...)}. */
  public void setFusedActivation(FusedActivation act) {
    this.activation = Objects.requireNonNull(act, "activation");
  }
}
