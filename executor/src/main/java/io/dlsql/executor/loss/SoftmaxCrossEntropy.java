package io.dlsql.executor.loss;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Softmax cross-entropy over logits (N, K), averaged over the batch, with optional label
 * smoothing (the target is {@code (1 - s) * onehot + s / K}, as PyTorch's {@code
 * label_smoothing}). Computed per row in double precision after subtracting the row maximum, so
 * large logits neither overflow nor lose the loss.
 */
public final class SoftmaxCrossEntropy {
  private final double labelSmoothing;

  public SoftmaxCrossEntropy(double labelSmoothing) {
    if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
      throw new IllegalArgumentException("label smoothing must be in [0, 1): " + labelSmoothing);
    }
    this.labelSmoothing = labelSmoothing;
  }

  /**
   * Mean loss of the first {@code n} rows; when {@code gradLogits} is not null, writes dLoss/dlogits
   * = (softmax - target) / n into its first n rows. Returns NaN or infinity as they come, for the
   * caller to detect divergence.
   */
  // logits: (N, K), labels: (N) -> loss = -1/N sum_n sum_k q[n][k] log softmax(logits[n])[k]
  public double forward(Tensor logits, int[] labels, int n, Tensor gradLogits) {
    int k = logits.dim(1);
    MemorySegment z = logits.segment();
    MemorySegment g = gradLogits == null ? null : gradLogits.segment();
    double offTarget = labelSmoothing / k;
    double onTarget = 1 - labelSmoothing + offTarget;
    double total = 0;
    for (int r = 0; r < n; r++) {
      int label = labels[r];
      if (label < 0 || label >= k) {
        throw new UserException("label " + label + " is outside the classes 0.." + (k - 1));
      }
      long row = (long) r * k;
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) {
        max = Math.max(max, z.getAtIndex(F32, row + j));
      }
      double sumExp = 0;
      for (int j = 0; j < k; j++) {
        sumExp += Math.exp(z.getAtIndex(F32, row + j) - max);
      }
      double logSum = Math.log(sumExp) + max;
      double loss = 0;
      for (int j = 0; j < k; j++) {
        double q = j == label ? onTarget : offTarget;
        double logP = z.getAtIndex(F32, row + j) - logSum;
        if (q != 0) {
          loss -= q * logP;
        }
        if (g != null) {
          g.setAtIndex(F32, row + j, (float) ((Math.exp(logP) - q) / n));
        }
      }
      total += loss;
    }
    return total / n;
  }

  /** How many of the first n rows have their largest logit at the label (the first on ties). */
  public static int correct(Tensor logits, int[] labels, int n) {
    int k = logits.dim(1);
    int hits = 0;
    for (int r = 0; r < n; r++) {
      if (argmax(logits, r, k) == labels[r]) {
        hits++;
      }
    }
    return hits;
  }

  /** Index of the largest of the k logits of row r. */
  public static int argmax(Tensor logits, int r, int k) {
    MemorySegment z = logits.segment();
    long row = (long) r * k;
    int best = 0;
    float bestValue = z.getAtIndex(F32, row);
    for (int j = 1; j < k; j++) {
      float v = z.getAtIndex(F32, row + j);
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    return best;
  }
}
