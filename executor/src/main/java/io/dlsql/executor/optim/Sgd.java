package io.dlsql.executor.optim;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.layer.Parameter;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent as PyTorch's {@code torch.optim.SGD} (dampening 0): {@code d = g +
 * wd * p}; with momentum {@code buf = d} on the first step and {@code buf = momentum * buf + d}
 * after; {@code d = nesterov ? d + momentum * buf : buf}; {@code p -= lr * d}.
 */
public final class Sgd implements Optimizer {
  static final int GRAIN = 1 << 14;
  private static final String BUFFER = "momentum_buffer";

  private final double momentum;
  private final boolean nesterov;
  private final double weightDecay;
  private final OptimizerState state = new OptimizerState();
  private long steps;

  public Sgd(double momentum, boolean nesterov, double weightDecay) {
    if (nesterov && momentum <= 0) {
      throw new UserException("nesterov needs a positive momentum");
    }
    this.momentum = momentum;
    this.nesterov = nesterov;
    this.weightDecay = weightDecay;
  }

  @Override
  public void step(List<Parameter> parameters, double lr) {
    float mu = (float) momentum;
    float wd = (float) weightDecay;
    float rate = (float) lr;
    for (Parameter p : parameters) {
      boolean first = momentum != 0 && !state.has(p, BUFFER);
      MemorySegment w = p.value().segment();
      MemorySegment g = p.grad().segment();
      MemorySegment buf = momentum == 0 ? null : state.get(p, BUFFER).segment();
      Parallel.get().forRange((int) p.value().numel(), GRAIN, (chunk, from, to) ->
          ElementwiseKernels.sgdUpdate(w, g, buf, from, to, wd, mu, rate, first, nesterov));
    }
    steps++;
  }

  @Override
  public LinkedHashMap<String, float[]> state() {
    return state.export();
  }

  @Override
  public Map<String, String> metadata() {
    return Map.of("optimizer", "sgd", "step", Long.toString(steps));
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
