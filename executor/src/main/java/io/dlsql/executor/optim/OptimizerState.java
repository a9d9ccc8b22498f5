package io.dlsql.executor.optim;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/** Named off-heap buffers an optimizer keeps per parameter, created zeroed on first use. */
final class OptimizerState implements AutoCloseable {
  private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();

  /**
   * The buffer {@code <parameter>.<kind>}, created (zeroed) if absent. A loaded buffer must have
   * as many values as its parameter: state saved for another model is a user mistake.
   */
  Tensor get(Parameter p, String kind) {
    String key = p.name() + "." + kind;
    Tensor t = buffers.computeIfAbsent(key, k -> Tensor.zeros(p.value().shape()));
    if (t.numel() != p.value().numel()) {
      throw new UserException(
          "optimizer state " + key + " has " + t.numel() + " values, the parameter has "
              + p.value().numel());
    }
    return t;
  }

  boolean has(Parameter p, String kind) {
    return buffers.containsKey(p.name() + "." + kind);
  }

  LinkedHashMap<String, float[]> export() {
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    buffers.forEach((k, v) -> out.put(k, v.toFloatArray()));
    return out;
  }

  void load(Map<String, float[]> state) {
    close();
    state.forEach((k, v) -> {
      if (v == null) {
        throw new UserException("optimizer state " + k + " is empty");
      }
      buffers.put(k, Tensor.of(v, v.length));
    });
  }

  @Override
  public void close() {
    buffers.values().forEach(Tensor::close);
    buffers.clear();
  }
}
