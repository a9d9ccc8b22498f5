package io.dlsql.shell;

import java.math.BigDecimal;
import java.math.MathContext;
import java.sql.Array;
import java.sql.Blob;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Locale;

/**
 * Turns one JDBC value into its display string: numbers readable, {@code NULL} visible, and
 * binary or tensor values compact ({@code <784 bytes>}, {@code <784 values>}) instead of a dump.
 */
final class ValueRenderer {
  static final String NULL_TEXT = "NULL";
  /** Significant digits shown for floating-point values, like a loss of 0.283747. */
  private static final int SIGNIFICANT_DIGITS = 6;
  /** Floating-point values outside [SMALLEST_PLAIN, LARGEST_PLAIN) print in scientific form. */
  private static final double SMALLEST_PLAIN = 1e-4;

  private static final double LARGEST_PLAIN = 1e15;
  /** Arrays up to this many elements are shown in full; longer ones only by their length. */
  private static final int MAX_INLINE_ELEMENTS = 8;

  private ValueRenderer() {}

  /** True for JDBC types whose values should be right-aligned. */
  static boolean isNumeric(int sqlType) {
    return switch (sqlType) {
      case Types.TINYINT,
          Types.SMALLINT,
          Types.INTEGER,
          Types.BIGINT,
          Types.FLOAT,
          Types.REAL,
          Types.DOUBLE,
          Types.NUMERIC,
          Types.DECIMAL ->
          true;
      default -> false;
    };
  }

  /** Renders column {@code column} (1-based) of the current row, reading it exactly once. */
  static String render(ResultSet rs, int column, int sqlType) throws SQLException {
    switch (sqlType) {
      case Types.FLOAT, Types.REAL, Types.DOUBLE -> {
        double value = rs.getDouble(column);
        return rs.wasNull() ? NULL_TEXT : formatDouble(value);
      }
      case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY -> {
        byte[] bytes = rs.getBytes(column);
        return bytes == null ? NULL_TEXT : bytesText(bytes.length);
      }
      case Types.BLOB -> {
        Blob blob = rs.getBlob(column);
        return blob == null ? NULL_TEXT : bytesText(blob.length());
      }
      case Types.ARRAY -> {
        Array array = rs.getArray(column);
        return array == null ? NULL_TEXT : renderObject(array.getArray());
      }
      case Types.OTHER, Types.JAVA_OBJECT, Types.STRUCT -> {
        return renderObject(rs.getObject(column));
      }
      default -> {
        String text = rs.getString(column);
        return text == null ? NULL_TEXT : text;
      }
    }
  }

  /** Renders a value whose JDBC type does not say how: arrays and tensors compactly. */
  static String renderObject(Object value) throws SQLException {
    return switch (value) {
      case null -> NULL_TEXT;
      case byte[] bytes -> bytesText(bytes.length);
      case Blob blob -> bytesText(blob.length());
      case Array array -> renderObject(array.getArray());
      case Double d -> formatDouble(d);
      case Float f -> formatDouble(f);
      default -> value.getClass().isArray() ? renderArray(value) : value.toString();
    };
  }

  /**
   * Formats a double with {@value #SIGNIFICANT_DIGITS} significant digits but never drops
   * integer digits; integral values print without a fraction.
   */
  static String formatDouble(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return Double.toString(value);
    }
    double magnitude = Math.abs(value);
    if (value == Math.rint(value) && magnitude < LARGEST_PLAIN) {
      return Long.toString((long) value);
    }
    if (magnitude < SMALLEST_PLAIN || magnitude >= LARGEST_PLAIN) {
      return String.format(Locale.ROOT, "%." + (SIGNIFICANT_DIGITS - 1) + "e", value);
    }
    BigDecimal decimal = new BigDecimal(value);
    int integerDigits = Math.max(0, decimal.precision() - decimal.scale());
    int digits = Math.max(SIGNIFICANT_DIGITS, integerDigits);
    return decimal.round(new MathContext(digits)).stripTrailingZeros().toPlainString();
  }

  /** Renders an array of any element type: short ones in full, tensors by their length. */
  private static String renderArray(Object array) throws SQLException {
    int length = java.lang.reflect.Array.getLength(array);
    if (length > MAX_INLINE_ELEMENTS) {
      return valuesText(length);
    }
    StringBuilder text = new StringBuilder("[");
    for (int i = 0; i < length; i++) {
      if (i > 0) {
        text.append(", ");
      }
      text.append(renderObject(java.lang.reflect.Array.get(array, i)));
    }
    return text.append(']').toString();
  }

  private static String bytesText(long count) {
    return "<" + count + (count == 1 ? " byte>" : " bytes>");
  }

  private static String valuesText(int count) {
    return "<" + count + (count == 1 ? " value>" : " values>");
  }
}
