package io.dlsql.planner.cost;

/** Which pass of a node a cost is for; training forward differs from inference forward (batchnorm statistics, dropout masks). */
public enum Direction {
  FORWARD_INFER,
  FORWARD_TRAIN,
  BACKWARD;

  /** Short form used in tuning record keys. */
  public String key() {
    return switch (this) {
      case FORWARD_INFER -> "fwd_infer";
      case FORWARD_TRAIN -> "fwd_train";
      case BACKWARD -> "bwd";
    };
  }
}
