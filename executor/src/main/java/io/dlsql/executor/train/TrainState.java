package io.dlsql.executor.train;

import io.dlsql.catalog.UserException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything needed to continue training after {@code epochsCompleted} epochs and get the same
 * result as an uninterrupted run: the weights (state dict), the optimizer's buffers, and small
 * metadata (optimizer step count, early-stopping progress, the seed). Random streams are derived
 * from the seed and the position (epoch, batch), so the seed is the whole random state.
 *
 * <p>{@link #toTensors()}, {@link #shapes()} and {@link #toMetadata()} flatten it for a checkpoint
 * file ({@code model.<name>}, {@code optimizer.<name>}); {@link #fromExport} reads it back.
 */
public record TrainState(
    int epochsCompleted,
    LinkedHashMap<String, float[]> weights,
    LinkedHashMap<String, int[]> weightShapes,
    LinkedHashMap<String, float[]> optimizerState,
    Map<String, String> metadata) {

  static final String MODEL_PREFIX = "model.";
  static final String OPTIMIZER_PREFIX = "optimizer.";
  static final String EPOCH_KEY = "epochs_completed";

  public TrainState {
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }

  /** Weights and optimizer buffers in one map, prefixed {@code model.} and {@code optimizer.}. */
  public LinkedHashMap<String, float[]> toTensors() {
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    weights.forEach((k, v) -> out.put(MODEL_PREFIX + k, v));
    optimizerState.forEach((k, v) -> out.put(OPTIMIZER_PREFIX + k, v));
    return out;
  }

  /** The shape of every entry of {@link #toTensors()} (optimizer buffers are flat). */
  public LinkedHashMap<String, int[]> shapes() {
    LinkedHashMap<String, int[]> out = new LinkedHashMap<>();
    weights.forEach((k, v) -> out.put(MODEL_PREFIX + k, weightShapes.getOrDefault(k, new int[] {v.length}).clone()));
    optimizerState.forEach((k, v) -> out.put(OPTIMIZER_PREFIX + k, new int[] {v.length}));
    return out;
  }

  /** Metadata including the epoch count. */
  public Map<String, String> toMetadata() {
    LinkedHashMap<String, String> out = new LinkedHashMap<>(metadata);
    out.put(EPOCH_KEY, Integer.toString(epochsCompleted));
    return out;
  }

  /** Reads a state written by {@link #toTensors()}, {@link #shapes()} and {@link #toMetadata()}. */
  public static TrainState fromExport(
      Map<String, float[]> tensors, Map<String, int[]> shapes, Map<String, String> metadata) {
    LinkedHashMap<String, float[]> weights = new LinkedHashMap<>();
    LinkedHashMap<String, int[]> weightShapes = new LinkedHashMap<>();
    LinkedHashMap<String, float[]> optimizer = new LinkedHashMap<>();
    for (Map.Entry<String, float[]> e : tensors.entrySet()) {
      String k = e.getKey();
      if (k.startsWith(MODEL_PREFIX)) {
        String name = k.substring(MODEL_PREFIX.length());
        weights.put(name, e.getValue());
        int[] shape = shapes == null ? null : shapes.get(k);
        weightShapes.put(name, shape == null ? new int[] {e.getValue().length} : shape.clone());
      } else if (k.startsWith(OPTIMIZER_PREFIX)) {
        optimizer.put(k.substring(OPTIMIZER_PREFIX.length()), e.getValue());
      } else {
        throw new UserException("checkpoint entry " + k + " is neither model. nor optimizer. state");
      }
    }
    String epoch = metadata.get(EPOCH_KEY);
    if (epoch == null) {
      throw new UserException("checkpoint metadata lacks " + EPOCH_KEY);
    }
    LinkedHashMap<String, String> rest = new LinkedHashMap<>(metadata);
    rest.remove(EPOCH_KEY);
    return new TrainState(Integer.parseInt(epoch), weights, weightShapes, optimizer, rest);
  }

  @Override
  public String toString() {
    return "TrainState[epochsCompleted=" + epochsCompleted + ", weights=" + weights.keySet()
        + ", optimizer=" + optimizerState.keySet() + ", metadata=" + metadata + "]";
  }

  /** Whether both states hold bit-identical numbers (for tests and resume checks). */
  public boolean sameNumbers(TrainState other) {
    return epochsCompleted == other.epochsCompleted
        && sameMaps(weights, other.weights)
        && sameMaps(optimizerState, other.optimizerState);
  }

  private static boolean sameMaps(Map<String, float[]> a, Map<String, float[]> b) {
    if (!a.keySet().equals(b.keySet())) {
      return false;
    }
    for (String k : a.keySet()) {
      if (!Arrays.equals(a.get(k), b.get(k))) {
        return false;
      }
    }
    return true;
  }
}
