package io.dlsql.executor.train;

/**
 * Receives training progress. The engine writes the training-log row and the checkpoint in
 * {@link #onEpoch}; both methods run on the training thread, so they should be quick.
 */
public interface TrainListener {
  /** Does nothing. */
  TrainListener NONE = new TrainListener() {};

  default void onBatch(BatchProgress progress) {}

  /** After each completed epoch, with the state to checkpoint (the run can resume from it). */
  default void onEpoch(EpochStats stats, TrainState state) {}
}
