package io.dlsql.executor.train;

import io.dlsql.catalog.UserException;

/**
 * The loss became NaN or infinite. The network has been put back to the weights at the end of
 * {@link #lastGoodEpoch()} (0: the initial weights), which {@link #lastGoodState()} also holds.
 */
public final class TrainingDivergedException extends UserException {
  private final int epoch;
  private final int batch;
  private final double loss;
  private final int lastGoodEpoch;
  private final transient TrainState lastGoodState;

  public TrainingDivergedException(int epoch, int batch, double loss, int lastGoodEpoch, TrainState lastGoodState) {
    super("training diverged: the loss became " + loss + " in epoch " + epoch + ", batch " + batch
        + "; the model keeps the weights after epoch " + lastGoodEpoch
        + ". Lower learning_rate, or set clip_norm");
    this.epoch = epoch;
    this.batch = batch;
    this.loss = loss;
    this.lastGoodEpoch = lastGoodEpoch;
    this.lastGoodState = lastGoodState;
  }

  /** The epoch (1-based) in which the loss stopped being finite. */
  public int epoch() {
    return epoch;
  }

  /** The batch (1-based) of that epoch. */
  public int batch() {
    return batch;
  }

  /** The non-finite loss. */
  public double loss() {
    return loss;
  }

  public int lastGoodEpoch() {
    return lastGoodEpoch;
  }

  public TrainState lastGoodState() {
    return lastGoodState;
  }
}
