package io.dlsql.catalog;

import java.time.Instant;
import java.util.Map;

/**
 * The resumable training state of a model after a completed epoch: weights plus optimizer state
 * (whatever the trainer put in {@code state}) and free-form metadata (run id, seed, options).
 */
public record Checkpoint(
    String model, int epoch, WeightSet state, Map<String, String> meta, Instant saved) {
  public Checkpoint {
    meta = Map.copyOf(meta);
  }
}
