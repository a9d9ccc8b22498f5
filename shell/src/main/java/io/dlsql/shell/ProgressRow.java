package io.dlsql.shell;

import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One row of {@code sys.progress}: how far a running statement is. Counts the server does not
 * know are {@link #UNKNOWN}; unknown measurements are NaN.
 */
record ProgressRow(
    long statementId,
    String statement,
    String phase,
    String model,
    int epoch,
    int epochs,
    int batch,
    int batches,
    double loss,
    double imagesPerSecond,
    double elapsedSeconds,
    double etaSeconds) {
  static final int UNKNOWN = -1;

  /** Reads the current row by column name, so extra or reordered columns do no harm. */
  static ProgressRow read(ResultSet rs) throws SQLException {
    ResultSetMetaData meta = rs.getMetaData();
    Map<String, Integer> columns = new HashMap<>();
    for (int i = 1; i <= meta.getColumnCount(); i++) {
      columns.put(meta.getColumnLabel(i).toLowerCase(Locale.ROOT), i);
    }
    return new ProgressRow(
        longValue(rs, columns, "statement_id"),
        text(rs, columns, "statement"),
        text(rs, columns, "phase"),
        text(rs, columns, "model"),
        (int) longValue(rs, columns, "epoch"),
        (int) longValue(rs, columns, "epochs"),
        (int) longValue(rs, columns, "batch"),
        (int) longValue(rs, columns, "batches"),
        doubleValue(rs, columns, "loss"),
        doubleValue(rs, columns, "images_per_sec"),
        doubleValue(rs, columns, "elapsed_s"),
        doubleValue(rs, columns, "eta_s"));
  }

  private static String text(ResultSet rs, Map<String, Integer> columns, String name)
      throws SQLException {
    Integer column = columns.get(name);
    return column == null ? null : rs.getString(column);
  }

  private static long longValue(ResultSet rs, Map<String, Integer> columns, String name)
      throws SQLException {
    Integer column = columns.get(name);
    if (column == null) {
      return UNKNOWN;
    }
    long value = rs.getLong(column);
    return rs.wasNull() ? UNKNOWN : value;
  }

  private static double doubleValue(ResultSet rs, Map<String, Integer> columns, String name)
      throws SQLException {
    Integer column = columns.get(name);
    if (column == null) {
      return Double.NaN;
    }
    double value = rs.getDouble(column);
    return rs.wasNull() ? Double.NaN : value;
  }
}
