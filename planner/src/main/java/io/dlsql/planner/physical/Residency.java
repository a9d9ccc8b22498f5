package io.dlsql.planner.physical;

/**
 * What a training step does with what a node's forward saves for its backward. Inference plans
 * save nothing, so every node there is {@link #NOT_SAVED}.
 */
public enum Residency {
  /** Saved tensors stay in memory from forward until backward. */
  KEPT,
  /** Saved tensors are dropped after forward and recomputed from the last checkpoint in backward. */
  RECOMPUTED,
  /** The node's output is kept as the checkpoint a recomputed segment restarts from. */
  CHECKPOINT,
  /** The node saves nothing (no backward needs, or an inference plan). */
  NOT_SAVED;

  /** The word EXPLAIN shows. */
  public String label() {
    return switch (this) {
      case KEPT -> "kept";
      case RECOMPUTED -> "recomputed";
      case CHECKPOINT -> "checkpoint";
      case NOT_SAVED -> "-";
    };
  }
}
