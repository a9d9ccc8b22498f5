package io.dlsql.executor.optim;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.layer.Parameter;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam and AdamW as PyTorch's {@code torch.optim.Adam} / {@code AdamW} (no amsgrad). Adam adds
 * {@code wd * p} to the gradient (L2); AdamW instead shrinks the weights by {@code 1 - lr * wd}
 * before the update (decoupled decay). Then {@code m = b1 m + (1-b1) g}, {@code v = b2 v + (1-b2)
 * g^2}, {@code p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)}.
 */
public final class Adam implements Optimizer {
  public static final double DEFAULT_BETA1 = 0.9;
  public static final double DEFAULT_BETA2 = 0.999;
  public static final double DEFAULT_EPS = 1e-8;
  /** AdamW's default weight decay in PyTorch. */
  public static final double ADAMW_DEFAULT_WEIGHT_DECAY = 0.01;

  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final boolean decoupled;
  private final OptimizerState state = new OptimizerState();
  private long steps;

  public Adam(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    this.decoupled = decoupled;
  }

  public boolean decoupled() {
    return decoupled;
  }

  @Override
  public void step(List<Parameter> parameters, double lr) {
    steps++;
    double bc1 = 1 - Math.pow(beta1, steps);
    double bc2 = 1 - Math.pow(beta2, steps);
    float stepSize = (float) (lr / bc1);
    float sqrtBc2 = (float) Math.sqrt(bc2);
    float b1 = (float) beta1;
    float b2 = (float) beta2;
    float epsilon = (float) eps;
    float l2 = decoupled ? 0f : (float) weightDecay;
    float shrink = decoupled ? (float) (1 - lr * weightDecay) : 1f;
    for (Parameter p : parameters) {
      MemorySegment w = p.value().segment();
      MemorySegment g = p.grad().segment();
      MemorySegment m = state.get(p, "exp_avg").segment();
      MemorySegment v = state.get(p, "exp_avg_sq").segment();
      Parallel.get().forRange((int) p.value().numel(), Sgd.GRAIN, (chunk, from, to) -> {
        for (int i = from; i < to; i++) {
          float wi = w.getAtIndex(F32, i) * shrink;
          float gi = g.getAtIndex(F32, i) + l2 * wi;
          float mi = b1 * m.getAtIndex(F32, i) + (1 - b1) * gi;
          float vi = b2 * v.getAtIndex(F32, i) + (1 - b2) * gi * gi;
          m.setAtIndex(F32, i, mi);
          v.setAtIndex(F32, i, vi);
          float denom = (float) Math.sqrt(vi) / sqrtBc2 + epsilon;
          w.setAtIndex(F32, i, wi - stepSize * mi / denom);
        }
      });
    }
  }

  @Override
  public LinkedHashMap<String, float[]> state() {
    return state.export();
  }

  @Override
  public Map<String, String> metadata() {
    return Map.of("optimizer", decoupled ? "adamw" : "adam", "step", Long.toString(steps));
  }

  @Override
  public void loadState(Map<String, float[]> saved, Map<String, String> metadata) {
    state.load(saved);
    steps = Long.parseLong(metadata.getOrDefault("step", "0"));
  }

  @Override
  public void close() {
    state.close();
  }
}
