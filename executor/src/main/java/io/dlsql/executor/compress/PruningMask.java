package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which weights of which tensors are kept (true) and which are pruned, by state-dict name. Applying
 * it zeroes pruned weights (in a state dict or a network) and their gradients, which is how
 * fine-tuning keeps them at zero.
 */
public record PruningMask(LinkedHashMap<String, boolean[]> keep) {

  /** Fraction of masked weights that are pruned. */
  public double sparsity() {
    long total = 0;
    long pruned = 0;
    for (boolean[] k : keep.values()) {
      total += k.length;
      for (boolean b : k) {
        if (!b) {
          pruned++;
        }
      }
    }
    return total == 0 ? 0 : (double) pruned / total;
  }

  /** Zeroes the pruned weights of {@code state} in place. */
  public void applyTo(Map<String, float[]> state) {
    keep.forEach((name, k) -> {
      float[] v = state.get(name);
      if (v == null || v.length != k.length) {
        throw new UserException("the weights do not match the pruning mask at " + name);
      }
      for (int i = 0; i < k.length; i++) {
        if (!k[i]) {
          v[i] = 0f;
        }
      }
    });
  }

  /** The parameters of {@code net} this mask covers, in mask order. */
  List<Parameter> parametersOf(Network net) {
    Map<String, Parameter> byName = new LinkedHashMap<>();
    for (Parameter p : net.parameters()) {
      byName.put(p.name(), p);
    }
    List<Parameter> out = new ArrayList<>();
    keep.forEach((name, k) -> {
      Parameter p = byName.get(name);
      if (p == null || p.value().numel() != k.length) {
        throw new UserException("the model does not match the pruning mask at " + name);
      }
      out.add(p);
    });
    return out;
  }

  /** Zeroes the pruned weights of the given parameters (from {@link #parametersOf}). */
  void applyTo(List<Parameter> params) {
    for (Parameter p : params) {
      zero(p.value(), keep.get(p.name()));
    }
  }

  /** Zeroes the gradients of the pruned weights, so momentum and weight decay never move them. */
  void applyToGradients(List<Parameter> params) {
    for (Parameter p : params) {
      zero(p.grad(), keep.get(p.name()));
    }
  }

  /** Zeroes the pruned weights of {@code net}. */
  public void applyTo(Network net) {
    applyTo(parametersOf(net));
  }

  private static void zero(Tensor t, boolean[] k) {
    MemorySegment s = t.segment();
    for (int i = 0; i < k.length; i++) {
      if (!k[i]) {
        s.setAtIndex(Tensor.F32, i, 0f);
      }
    }
  }
}
