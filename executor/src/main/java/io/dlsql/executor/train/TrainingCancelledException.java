package io.dlsql.executor.train;

import io.dlsql.catalog.UserException;

/**
 * Training was cancelled. The network has been put back to the weights at the end of the last
 * completed epoch ({@link #lastCompletedEpoch()}, 0: the initial weights).
 */
public final class TrainingCancelledException extends UserException {
  private final int lastCompletedEpoch;
  private final transient TrainState lastState;

  public TrainingCancelledException(int lastCompletedEpoch, TrainState lastState) {
    super("training cancelled; the model keeps the weights after epoch " + lastCompletedEpoch);
    this.lastCompletedEpoch = lastCompletedEpoch;
    this.lastState = lastState;
  }

  public int lastCompletedEpoch() {
    return lastCompletedEpoch;
  }

  public TrainState lastState() {
    return lastState;
  }
}
