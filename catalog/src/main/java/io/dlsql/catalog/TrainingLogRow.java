package io.dlsql.catalog;

import java.time.Instant;
import java.util.Locale;

/**
 * One epoch of one training run, as stored in the durable training log (queryable as {@code
 * sys.training_log}). Validation figures are null when the run had no validation split.
 */
public record TrainingLogRow(
    String model,
    String runId,
    int epoch,
    double trainLoss,
    double trainAccuracy,
    Double validationLoss,
    Double validationAccuracy,
    double learningRate,
    double seconds,
    double imagesPerSecond,
    long peakMemoryBytes,
    Instant finished) {
  public TrainingLogRow {
    if (model == null || runId == null || finished == null) {
      throw new IllegalArgumentException("model, runId and finished are required");
    }
    model = model.toLowerCase(Locale.ROOT);
  }
}
