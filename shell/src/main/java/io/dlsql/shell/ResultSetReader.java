package io.dlsql.shell;

import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Fetches a whole {@link ResultSet} into a {@link ResultTable} of display strings. Fetching is
 * part of running a statement (engines evaluate lazily), so it stops early when asked to.
 */
final class ResultSetReader {
  private ResultSetReader() {}

  /**
   * Reads every row; returns {@code null}-free cells. Stops and returns the rows read so far as
   * soon as {@code stop} answers true, which the caller checks to tell a cancelled read.
   */
  static ResultTable read(ResultSet rs, BooleanSupplier stop) throws SQLException {
    ResultSetMetaData meta = rs.getMetaData();
    int count = meta.getColumnCount();
    int[] types = new int[count];
    List<ResultTable.Column> columns = new ArrayList<>(count);
    for (int i = 1; i <= count; i++) {
      types[i - 1] = meta.getColumnType(i);
      columns.add(new ResultTable.Column(meta.getColumnLabel(i), ValueRenderer.isNumeric(types[i - 1])));
    }
    List<List<String>> rows = new ArrayList<>();
    while (!stop.getAsBoolean() && rs.next()) {
      List<String> row = new ArrayList<>(count);
      for (int i = 1; i <= count; i++) {
        row.add(ValueRenderer.render(rs, i, types[i - 1]));
      }
      rows.add(row);
    }
    return new ResultTable(columns, rows);
  }
}
