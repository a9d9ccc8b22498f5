package io.dlsql.executor.optim;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.kernel.Parallel;
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
      Parallel.get().forRange((int) p.value().numel(), GRAIN, (chunk, from, to) -> {
        for (int i = from; i < to; i++) {
          float wi = w.getAtIndex(F32, i);
          float d = g.getAtIndex(F32, i) + wd * wi;
          if (buf != null) {
            float b = first ? d : mu * buf.getAtIndex(F32, i) + d;
            buf.setAtIndex(F32, i, b);
            d = nesterov ? d + mu * b : b;
          }
          w.setAtIndex(F32, i, wi - rate * d);
        }
      });
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
