package io.dlsql.executor.train;

import io.dlsql.catalog.UserException;

/**
 * The loss became NaN or infinite. The network has been put back to the weights at the end of
 * {@link #lastGoodEpoch()} (0: the initial weights), which {@link #lastGoodState()} also holds.
 */
public final class TrainingDivergedException extends UserException {
  private final int lastGoodEpoch;
  private final transient TrainState lastGoodState;

  public TrainingDivergedException(int epoch, int batch, double loss, int lastGoodEpoch, TrainState lastGoodState) {
    super("training diverged: the loss became " + loss + " in epoch " + epoch + ", batch " + batch
        + "; the model keeps the weights after epoch " + lastGoodEpoch
        + ". Lower learning_rate, or set clip_norm");
    this.lastGoodEpoch = lastGoodEpoch;
    this.lastGoodState = lastGoodState;
  }

  public int lastGoodEpoch() {
    return lastGoodEpoch;
  }

  public TrainState lastGoodState() {
    return lastGoodState;
  }
}
