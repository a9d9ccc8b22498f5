package io.dlsql.executor.layer;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Fully connected layer {@code y = x W^T + b} with W (units, features) as in PyTorch; inputs that
 * are not flat are read as (N, features). Every product is one GEMM whose output rows are split
 * across threads, so no reduction crosses threads and results do not depend on the thread count.
 */
public final class Dense extends Layer {
  /** Output rows per chunk at least. */
  private static final int MIN_ROWS_PER_CHUNK = 8;

  private final int features;
  private final int units;
  private final Tensor weight;
  private final Tensor weightGrad;
  private final Tensor bias;
  private final Tensor biasGrad;

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
    Parallel.get().forRange(n, MIN_ROWS_PER_CHUNK, (chunk, from, to) -> {
      Gemm.sgemm(false, true, to - from, units, features, 1f, x, (long) from * features, features,
          w, 0, features, 0f, y, (long) from * units, units);
      if (bias != null) {
        MemorySegment b = bias.segment();
        for (int r = from; r < to; r++) {
          long row = (long) r * units;
          for (int u = 0; u < units; u++) {
            y.setAtIndex(F32, row + u, y.getAtIndex(F32, row + u) + b.getAtIndex(F32, u));
          }
        }
      }
    });
  }

  // Differentiates y = x W^T + b: dW (U, F) = dy^T x, db = column sums of dy, dx (N, F) = dy W.
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    MemorySegment x = inputs[0].segment();
    MemorySegment dy = gradOutput.segment();
    int n = inputs[0].dim(0);
    MemorySegment dw = weightGrad.segment();
    Parallel.get().forRange(units, MIN_ROWS_PER_CHUNK, (chunk, from, to) -> {
      Gemm.sgemm(true, false, to - from, features, n, 1f, dy, from, units, x, 0, features,
          0f, dw, (long) from * features, features);
      if (biasGrad != null) {
        MemorySegment db = biasGrad.segment();
        for (int u = from; u < to; u++) {
          float sum = 0f;
          for (int r = 0; r < n; r++) {
            sum += dy.getAtIndex(F32, (long) r * units + u);
          }
          db.setAtIndex(F32, u, sum);
        }
      }
    });
    if (gradInputs[0] == null) {
      return;
    }
    MemorySegment dx = gradInputs[0].segment();
    MemorySegment w = weight.segment();
    Parallel.get().forRange(n, MIN_ROWS_PER_CHUNK, (chunk, from, to) ->
        Gemm.sgemm(false, false, to - from, features, units, 1f, dy, (long) from * units, units,
            w, 0, features, 0f, dx, (long) from * features, features));
  }
}
