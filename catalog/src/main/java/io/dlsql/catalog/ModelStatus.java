package io.dlsql.catalog;

/** Whether a model has weights: DEFINED (architecture only) or TRAINED (weights saved). */
public enum ModelStatus {
  DEFINED,
  TRAINED
}
