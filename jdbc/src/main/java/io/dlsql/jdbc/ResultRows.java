package io.dlsql.jdbc;

import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * Rows a dlsql statement returns (TRAIN's epoch log, EVALUATE's metrics, SHOW, DESCRIBE, ...),
 * held in Calcite's internal value representation so they can be served as a table.
 */
public record ResultRows(List<Column> columns, List<Object[]> rows) {
  /** One result column: its name, SQL type and whether it may hold nulls. */
  public record Column(String name, SqlTypeName type, boolean nullable) {}

  /** Collects columns, then rows, for a {@link ResultRows}. */
  public static final class Builder {
    private final List<Column> columns = new ArrayList<>();
    private final List<Object[]> rows = new ArrayList<>();

    public Builder column(String name, SqlTypeName type) {
      columns.add(new Column(name, type, true));
      return this;
    }

    public Builder row(Object... values) {
      if (values.length != columns.size()) {
        throw new IllegalStateException(
            "row has " + values.length + " values for " + columns.size() + " columns");
      }
      rows.add(values);
      return this;
    }

    public ResultRows build() {
      return new ResultRows(List.copyOf(columns), rows);
    }
  }

  public static Builder builder() {
    return new Builder();
  }
}
