package io.dlsql.jdbc;

import io.dlsql.catalog.TrainingLogRow;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** A training-log row as checkpoint metadata (string pairs under the prefix {@code log.}) and back. */
final class LogRowCodec {
  private static final String PREFIX = "log.";

  private LogRowCodec() {}

  static Map<String, String> encode(TrainingLogRow r) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(PREFIX + "run_id", r.runId());
    m.put(PREFIX + "epoch", Integer.toString(r.epoch()));
    m.put(PREFIX + "train_loss", Double.toString(r.trainLoss()));
    m.put(PREFIX + "train_accuracy", Double.toString(r.trainAccuracy()));
    if (r.validationLoss() != null) {
      m.put(PREFIX + "val_loss", Double.toString(r.validationLoss()));
      m.put(PREFIX + "val_accuracy", Double.toString(r.validationAccuracy()));
    }
    m.put(PREFIX + "learning_rate", Double.toString(r.learningRate()));
    m.put(PREFIX + "seconds", Double.toString(r.seconds()));
    m.put(PREFIX + "images_per_sec", Double.toString(r.imagesPerSecond()));
    m.put(PREFIX + "peak_memory_bytes", Long.toString(r.peakMemoryBytes()));
    m.put(PREFIX + "finished", r.finished().toString());
    return m;
  }

  /** The row stored in {@code meta}, or null when the metadata has none (older checkpoints). */
  static TrainingLogRow decode(String model, Map<String, String> meta) {
    if (!meta.containsKey(PREFIX + "epoch")) {
      return null;
    }
    String valLoss = meta.get(PREFIX + "val_loss");
    String valAccuracy = meta.get(PREFIX + "val_accuracy");
    return new TrainingLogRow(model, meta.get(PREFIX + "run_id"), Integer.parseInt(meta.get(PREFIX + "epoch")),
        Double.parseDouble(meta.get(PREFIX + "train_loss")), Double.parseDouble(meta.get(PREFIX + "train_accuracy")),
        valLoss == null ? null : Double.valueOf(valLoss), valAccuracy == null ? null : Double.valueOf(valAccuracy),
        Double.parseDouble(meta.get(PREFIX + "learning_rate")), Double.parseDouble(meta.get(PREFIX + "seconds")),
        Double.parseDouble(meta.get(PREFIX + "images_per_sec")), Long.parseLong(meta.get(PREFIX + "peak_memory_bytes")),
        Instant.parse(meta.get(PREFIX + "finished")));
  }
}
