package io.dlsql.planner;

import io.dlsql.catalog.UserException;
import java.util.Map;
import java.util.Objects;

/**
 * What a plan is asked for: training or inference, the batch size, the memory limit for training
 * ({@code memory_limit}, 0 for none), how many samples an epoch has (0 when unknown: EXPLAIN then
 * shows no time per epoch), the optimizer's state slots per parameter (1 for SGD with momentum, 2
 * for Adam) and the session's settings.
 */
public record PlanRequest(
    Mode mode,
    int batchSize,
    long memoryLimitBytes,
    long epochSamples,
    int optimizerSlots,
    PlannerSettings settings) {

  /** State slots per parameter when the optimizer is not known: SGD with momentum. */
  public static final int DEFAULT_OPTIMIZER_SLOTS = 1;

  public PlanRequest {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(settings, "settings");
    if (batchSize < 1) {
      throw new UserException("batch_size must be at least 1, got " + batchSize);
    }
    if (memoryLimitBytes < 0) {
      throw new UserException("memory_limit must not be negative, got " + memoryLimitBytes);
    }
    if (epochSamples < 0 || optimizerSlots < 0) {
      throw new IllegalArgumentException("negative epoch size or optimizer slots");
    }
  }

  /** A training request with the default optimizer slots. */
  public static PlanRequest train(int batchSize, long memoryLimitBytes, long epochSamples,
      Map<String, String> settings) {
    return new PlanRequest(Mode.TRAIN, batchSize, memoryLimitBytes, epochSamples,
        DEFAULT_OPTIMIZER_SLOTS, PlannerSettings.of(settings));
  }

  /** An inference request. */
  public static PlanRequest infer(int batchSize, Map<String, String> settings) {
    return new PlanRequest(Mode.INFER, batchSize, 0, 0, 0, PlannerSettings.of(settings));
  }
}
