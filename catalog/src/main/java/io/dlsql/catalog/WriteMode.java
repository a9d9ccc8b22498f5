package io.dlsql.catalog;

/**
 * How a {@link TableWriter} commits: CREATE a new table (fails if the name exists), REPLACE a
 * table's contents and columns, or APPEND rows to an existing table with the same columns.
 */
public enum WriteMode {
  CREATE,
  REPLACE,
  APPEND
}
