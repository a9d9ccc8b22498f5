package io.dlsql.planner;

/** What a plan is for: a training step (forward, backward, update) or inference (forward only). */
public enum Mode {
  TRAIN,
  INFER
}
