package io.dlsql.catalog;

import java.util.Arrays;
import java.util.Locale;

/**
 * The type of a catalog column: one of the scalar SQL types ({@link ScalarType}) or a fixed-shape
 * tensor ({@link TensorType}). The textual form from {@link #sqlName()} is what the manifest stores
 * and what {@link #parse(String)} reads back.
 */
public sealed interface ColumnType permits ScalarType, TensorType {
  ScalarType BOOLEAN = ScalarType.BOOLEAN;
  ScalarType INTEGER = ScalarType.INTEGER;
  ScalarType BIGINT = ScalarType.BIGINT;
  ScalarType REAL = ScalarType.REAL;
  ScalarType DOUBLE = ScalarType.DOUBLE;
  ScalarType VARCHAR = ScalarType.VARCHAR;
  ScalarType DATE = ScalarType.DATE;
  ScalarType TIMESTAMP = ScalarType.TIMESTAMP;

  /** A tensor type of the given element type and shape, e.g. {@code tensor(UINT8, 1, 28, 28)}. */
  static TensorType tensor(ElementType elementType, int... dims) {
    return new TensorType(dims, elementType);
  }

  /** The type as SQL-like text: {@code INTEGER}, {@code TENSOR(1, 28, 28) UINT8}. */
  String sqlName();

  /** The Java class of row values of this type (what {@code appendRow} takes and rows give). */
  Class<?> javaClass();

  /**
   * Parses the text written by {@link #sqlName()}: a scalar type name or {@code TENSOR(d1, ..., dn)
   * [UINT8|FLOAT32]} (element type defaults to UINT8).
   */
  static ColumnType parse(String text) {
    String t = text.trim();
    String upper = t.toUpperCase(Locale.ROOT);
    if (!upper.startsWith("TENSOR")) {
      return ScalarType.parse(t);
    }
    int open = t.indexOf('(');
    int close = t.indexOf(')');
    if (open < 0 || close < open) {
      throw new UserException("malformed tensor type '" + text + "': expected TENSOR(d1, ..., dn)");
    }
    String[] parts = t.substring(open + 1, close).split(",");
    int[] dims;
    try {
      dims = Arrays.stream(parts).map(String::trim).mapToInt(Integer::parseInt).toArray();
    } catch (NumberFormatException e) {
      throw new UserException("malformed tensor type '" + text + "': dimensions must be integers");
    }
    String rest = t.substring(close + 1).trim();
    ElementType element = rest.isEmpty() ? ElementType.UINT8 : ElementType.parse(rest);
    return new TensorType(dims, element);
  }
}
