package io.dlsql.executor.train;

import io.dlsql.executor.tensor.Tensor;

/**
 * Images (and labels) addressed by index, loaded a batch at a time into a tensor the trainer
 * reuses, so no per-image objects are made. Implementations are read from one loader thread at a
 * time.
 */
public interface Dataset {
  /** Number of samples. */
  int size();

  /** Per-sample shape, (C, H, W). */
  int[] sampleShape();

  /** Whether samples carry labels (prediction data may not). */
  default boolean hasLabels() {
    return true;
  }

  /**
   * Writes samples {@code indices[from .. from+count)} as float32 into the first {@code count}
   * rows of {@code dest} (count, C, H, W), and their labels into {@code labelsDest[0 .. count)}
   * unless it is null (-1 where the data has no labels).
   */
  void load(int[] indices, int from, int count, Tensor dest, int[] labelsDest);
}
