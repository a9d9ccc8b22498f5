package io.dlsql.executor.train;

/**
 * The measurements of one training epoch (epoch counts from 1): mean training loss and accuracy
 * over its batches (in training mode, as they were computed), validation loss and accuracy in
 * evaluation mode (NaN without validation data), the learning rate of its last batch, wall time,
 * throughput and the peak bytes of live tensors.
 */
public record EpochStats(
    int epoch,
    double trainLoss,
    double trainAccuracy,
    double valLoss,
    double valAccuracy,
    double learningRate,
    double seconds,
    double imagesPerSec,
    long peakMemoryBytes) {

  /** Whether the epoch was validated. */
  public boolean hasValidation() {
    return !Double.isNaN(valAccuracy);
  }
}
