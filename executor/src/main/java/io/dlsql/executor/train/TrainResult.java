package io.dlsql.executor.train;

import java.util.List;

/**
 * The outcome of {@link Trainer#fit}: per-epoch statistics of this run, whether early stopping
 * ended it, the epoch with the best validation accuracy (0 without validation), and the final
 * state (the network holds the same weights).
 */
public record TrainResult(List<EpochStats> history, boolean stoppedEarly, int bestEpoch, TrainState finalState) {
  public TrainResult {
    history = List.copyOf(history);
  }
}
