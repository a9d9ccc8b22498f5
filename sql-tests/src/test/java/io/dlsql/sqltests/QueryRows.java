package io.dlsql.sqltests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A result read the same way from any JDBC driver (embedded, Avatica thin, dlsql remote): column
 * labels, and values as {@code Long} for integer columns, {@code Double} for floating-point
 * columns, text otherwise, {@code null} for SQL NULL. Lets a test compare what two drivers return.
 */
record QueryRows(List<String> columns, List<List<Object>> rows) {
  /**
   * Doubles may differ in their last bits between two processes (the server's kernels run on
   * their own thread pool); anything beyond this relative difference is a real disagreement.
   */
  private static final double RELATIVE_TOLERANCE = 1e-9;

  /** Runs {@code sql}, which must return rows, and reads them all. */
  static QueryRows query(Statement statement, String sql) throws SQLException {
    if (!statement.execute(sql)) {
      fail("no result set from: " + sql);
    }
    try (ResultSet rs = statement.getResultSet()) {
      return read(rs);
    }
  }

  static QueryRows read(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    List<String> columns = new ArrayList<>();
    for (int c = 1; c <= md.getColumnCount(); c++) {
      columns.add(md.getColumnLabel(c).toLowerCase(Locale.ROOT));
    }
    List<List<Object>> rows = new ArrayList<>();
    while (rs.next()) {
      List<Object> row = new ArrayList<>();
      for (int c = 1; c <= md.getColumnCount(); c++) {
        row.add(value(rs, c, md.getColumnType(c)));
      }
      rows.add(row);
    }
    return new QueryRows(List.copyOf(columns), rows);
  }

  private static Object value(ResultSet rs, int column, int type) throws SQLException {
    Object value = switch (type) {
      case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> rs.getLong(column);
      case Types.FLOAT, Types.REAL, Types.DOUBLE, Types.DECIMAL, Types.NUMERIC -> rs.getDouble(column);
      default -> rs.getString(column);
    };
    return rs.wasNull() ? null : value;
  }

  /** The values of one column, by label. */
  List<Object> column(String label) {
    int index = columns.indexOf(label);
    if (index < 0) {
      throw new AssertionError("no column '" + label + "' in " + columns);
    }
    return rows.stream().map(r -> r.get(index)).toList();
  }

  /** Asserts the same columns and rows, doubles equal up to {@link #RELATIVE_TOLERANCE}. */
  static void assertSameRows(QueryRows expected, QueryRows actual, String what) {
    assertEquals(expected.columns(), actual.columns(), what + ": columns");
    assertEquals(expected.rows().size(), actual.rows().size(), what + ": row count; got " + actual.rows());
    for (int r = 0; r < expected.rows().size(); r++) {
      List<Object> want = expected.rows().get(r);
      List<Object> got = actual.rows().get(r);
      for (int c = 0; c < want.size(); c++) {
        if (!sameValue(want.get(c), got.get(c))) {
          fail(what + ": row " + r + " column '" + expected.columns().get(c) + "': expected " + want
              + " but got " + got);
        }
      }
    }
  }

  private static boolean sameValue(Object want, Object got) {
    if (want instanceof Double w && got instanceof Double g) {
      if (w.isNaN() || g.isNaN() || w.isInfinite() || g.isInfinite()) {
        return w.equals(g);
      }
      return Math.abs(w - g) <= RELATIVE_TOLERANCE * Math.max(Math.abs(w), Math.abs(g));
    }
    return Objects.equals(want, got);
  }
}
