package io.dlsql.executor.optim;

import io.dlsql.executor.layer.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their gradients, with PyTorch's semantics. Per-parameter state
 * (momentum buffers, moment estimates) is created on the first step and can be exported and
 * loaded by name ({@code <parameter>.<buffer>}), with the step count in the metadata, so a resumed
 * run continues exactly.
 */
public sealed interface Optimizer extends AutoCloseable permits Sgd, Adam {
  /** One update of every parameter with learning rate {@code lr}. */
  void step(List<Parameter> parameters, double lr);

  /** A copy of the per-parameter state, by name. */
  LinkedHashMap<String, float[]> state();

  /** Small scalar state (the step count). */
  Map<String, String> metadata();

  /** Restores state exported by {@link #state()} and {@link #metadata()}. */
  void loadState(Map<String, float[]> state, Map<String, String> metadata);

  /** Frees the state buffers. */
  @Override
  void close();
}
