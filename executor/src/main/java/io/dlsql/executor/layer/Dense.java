package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Fully connected layer {@code y = x W^T + b} with W (units, features) as in PyTorch; inputs that
 * are not flat are read as (N, features). Every product is one GEMM call, which splits its output
 * across threads (every element summed by one thread in a fixed order), and the bias gradient sums
 * rows in order, so results do not depend on the thread count.
 */
public final class Dense extends Layer {
  /** Output rows per chunk of the bias epilogue at least. */
  private static final int MIN_ROWS_PER_CHUNK = 8;
  /** Units per chunk of the bias gradient at least: a thread hand-off costs more than summing fewer. */
  private static final int BIAS_UNITS_PER_CHUNK = 256;

  private final int features;
  private final int units;
  private final Tensor weight;
  private final Tensor weightGrad;
  private final Tensor bias;
  private final Tensor biasGrad;
  private FusedActivation activation = FusedActivation.IDENTITY;
  /** dy masked by the fused activation, kept for later batches. */
  private Tensor maskedGrad;

  public Dense(String name, int features, int units, boolean hasBias) {
    super(name, new int[] {units});
    this.features = features;
    this.units = units;
    this.weight = Tensor.zeros(units, features);
    this.weightGrad = Tensor.zeros(units, features);
    this.bias = hasBias ? Tensor.zeros(units) : null;
    this.biasGrad = hasBias ? Tensor.zeros(units) : null;
  }

  public int features() {
    return features;
  }

  public int units() {
    return units;
  }

  /** The activation fused into the output (a following ReLU), identity by default. */
  public FusedActivation fusedActivation() {
    return activation;
  }

  /** Fuses {@code act} into the output: the layer then computes {@code act(x W^T + b)}. */
  public void setFusedActivation(FusedActivation act) {
    this.activation = Objects.requireNonNull(act, "activation");
  }

  @Override
  public void close() {
    super.close();
    if (maskedGrad != null) {
      maskedGrad.close();
    }
  }

  public Tensor weight() {
    return weight;
  }

  public Tensor bias() {
    return bias;
  }

  @Override
  public List<Parameter> parameters() {
    List<Parameter> out = new ArrayList<>(2);
    out.add(new Parameter(name + ".weight", weight, weightGrad));
    if (bias != null) {
      out.add(new Parameter(name + ".bias", bias, biasGrad));
    }
    return out;
  }

  @Override
  public void initialize(InitScheme scheme, Rng rng) {
    initWeights(weight, bias, features, units, scheme, rng);
  }

  // x: (N, F), W: (U, F), b: (U) -> y: (N, U) = x W^T + b
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    MemorySegment x = inputs[0].segment();
    MemorySegment y = output.segment();
    MemorySegment w = weight.segment();
    int n = inputs[0].dim(0);
    // One GEMM, which splits its output across threads the cheaper way (here by columns: each
    // thread packs x and half of W, not all of W as a split of the batch would).
    Gemm.sgemm(false, true, n, units, features, 1f, x, 0, features, w, 0, features, 0f, y, 0, units);
    if (bias == null && activation == FusedActivation.IDENTITY) {
      return;
    }
    Parallel.get().forRange(n, MIN_ROWS_PER_CHUNK, (chunk, from, to) -> {
      if (bias != null) {
        MemorySegment b = bias.segment();
        for (int r = from; r < to; r++) {
          ElementwiseKernels.addBias(y, (long) r * units, b, units, activation);
        }
      } else {
        ElementwiseKernels.relu(y, y, (long) from * units, (long) to * units);
      }
    });
  }

  // Differentiates y = act(x W^T + b): with dz = dy * act'(y), dW (U, F) = dz^T x, db = column
  // sums of dz, dx (N, F) = dz W.
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    MemorySegment x = inputs[0].segment();
    MemorySegment dy = gradOutput.segment();
    if (activation != FusedActivation.IDENTITY) {
      if (maskedGrad == null || maskedGrad.numel() < gradOutput.numel()) {
        if (maskedGrad != null) {
          maskedGrad.close();
        }
        maskedGrad = Tensor.zeros(Math.toIntExact(gradOutput.numel()));
      }
      MemorySegment ys = output.segment();
      MemorySegment g = gradOutput.segment();
      MemorySegment masked = maskedGrad.segment();
      Elementwise.forEach(gradOutput.numel(), (from, to) -> ElementwiseKernels.reluBackward(ys, g, masked, from, to));
      dy = masked;
    }
    MemorySegment grad = dy;
    int n = inputs[0].dim(0);
    MemorySegment dw = weightGrad.segment();
    Gemm.sgemm(true, false, units, features, n, 1f, grad, 0, units, x, 0, features, 0f, dw, 0, features);
    if (biasGrad != null) {
      // db = column sums of dz: whole rows added in row order, vectorised across units.
      MemorySegment db = biasGrad.segment();
      Parallel.get().forRange(units, BIAS_UNITS_PER_CHUNK, (chunk, from, to) -> {
        db.asSlice((long) from * Float.BYTES, (long) (to - from) * Float.BYTES).fill((byte) 0);
        for (int r = 0; r < n; r++) {
          ElementwiseKernels.addInto(db, from, grad, (long) r * units + from, to - from);
        }
      });
    }
    if (gradInputs[0] == null) {
      return;
    }
    MemorySegment dx = gradInputs[0].segment();
    MemorySegment w = weight.segment();
    Gemm.sgemm(false, false, n, features, units, 1f, grad, 0, units, w, 0, features, 0f, dx, 0, features);
  }
}
