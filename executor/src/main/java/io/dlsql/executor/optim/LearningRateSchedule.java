package io.dlsql.executor.optim;

/**
 * The learning rate as a function of training progress. Epoch-based schedules change at epoch
 * boundaries (as PyTorch's schedulers stepped once per epoch); the linear warm-up ramps per batch.
 */
public sealed interface LearningRateSchedule {
  /** The rate for batch {@code batch} (of {@code batches}) of epoch {@code epoch}, both from 0. */
  double rate(int epoch, int batch, int batches);

  /** The same rate throughout. */
  record Constant(double base) implements LearningRateSchedule {
    @Override
    public double rate(int epoch, int batch, int batches) {
      return base;
    }
  }

  /** {@code base * gamma^floor(epoch / stepSize)} (StepLR). */
  record Step(double base, int stepSize, double gamma) implements LearningRateSchedule {
    @Override
    public double rate(int epoch, int batch, int batches) {
      return base * Math.pow(gamma, epoch / stepSize);
    }
  }

  /** {@code base * (1 + cos(pi * epoch / epochs)) / 2} (CosineAnnealingLR with T_max = epochs, eta_min 0). */
  record Cosine(double base, int epochs) implements LearningRateSchedule {
    @Override
    public double rate(int epoch, int batch, int batches) {
      return base * (1 + Math.cos(Math.PI * epoch / epochs)) / 2;
    }
  }

  /**
   * Linear warm-up over the first {@code warmupEpochs} epochs, per batch, up to the rate {@code
   * after} starts with; then {@code after} with epochs counted from the end of the warm-up.
   */
  record Warmup(int warmupEpochs, LearningRateSchedule after) implements LearningRateSchedule {
    @Override
    public double rate(int epoch, int batch, int batches) {
      if (epoch >= warmupEpochs) {
        return after.rate(epoch - warmupEpochs, batch, batches);
      }
      double progress = ((double) epoch * batches + batch + 1) / ((double) warmupEpochs * batches);
      return after.rate(0, 0, batches) * progress;
    }
  }
}
