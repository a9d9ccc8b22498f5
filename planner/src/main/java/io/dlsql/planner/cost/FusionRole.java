package io.dlsql.planner.cost;

/**
 * How fusion changes what one operator moves: whether it reads its first input from memory,
 * whether it writes its output, and whether it is folded away entirely (batchnorm into the
 * preceding convolution's weights, for inference).
 */
public record FusionRole(boolean readsFirstInput, boolean writesOutput, boolean folded) {
  /** An operator that runs on its own. */
  public static final FusionRole UNFUSED = new FusionRole(true, true, false);
}
