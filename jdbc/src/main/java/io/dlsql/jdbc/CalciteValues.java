package io.dlsql.jdbc;

import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.ColumnType;
import io.dlsql.catalog.ScalarType;
import io.dlsql.catalog.TensorType;
import io.dlsql.catalog.UserException;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.apache.calcite.avatica.util.ByteString;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * Conversions between the catalog's row values, Calcite's internal values (what a scanned table
 * yields) and the values JDBC result sets return. Tensors are VARBINARY to Calcite.
 */
final class CalciteValues {
  private static final long MILLIS_PER_DAY = 86_400_000L;

  private CalciteValues() {}

  /** The Calcite type of a catalog column type. */
  static SqlTypeName sqlType(ColumnType type) {
    return switch (type) {
      case TensorType t -> SqlTypeName.VARBINARY;
      case ScalarType s -> switch (s) {
        case BOOLEAN -> SqlTypeName.BOOLEAN;
        case INTEGER -> SqlTypeName.INTEGER;
        case BIGINT -> SqlTypeName.BIGINT;
        case REAL -> SqlTypeName.REAL;
        case DOUBLE -> SqlTypeName.DOUBLE;
        case VARCHAR -> SqlTypeName.VARCHAR;
        case DATE -> SqlTypeName.DATE;
        case TIMESTAMP -> SqlTypeName.TIMESTAMP;
      };
    };
  }

  /** A catalog row value as Calcite's internal value. */
  static Object toInternal(Object value) {
    return switch (value) {
      case null -> null;
      case byte[] bytes -> new ByteString(bytes);
      case LocalDate date -> (int) date.toEpochDay();
      case java.sql.Date date -> (int) date.toLocalDate().toEpochDay();
      case Timestamp ts -> ts.toLocalDateTime().toInstant(ZoneOffset.UTC).toEpochMilli();
      default -> value;
    };
  }

  /** Converts a catalog row in place to Calcite's internal values. */
  static Object[] toInternalRow(Object[] row) {
    for (int i = 0; i < row.length; i++) {
      row[i] = toInternal(row[i]);
    }
    return row;
  }

  /**
   * The catalog column type for a query result column of the given JDBC type; {@code tensor} is
   * the tensor type its origin column has, if it is a tensor.
   */
  static ColumnType columnType(String column, int jdbcType, String typeName, TensorType tensor) {
    if (tensor != null) {
      return tensor;
    }
    return switch (jdbcType) {
      case Types.BOOLEAN, Types.BIT -> ScalarType.BOOLEAN;
      case Types.TINYINT, Types.SMALLINT, Types.INTEGER -> ScalarType.INTEGER;
      case Types.BIGINT -> ScalarType.BIGINT;
      case Types.REAL -> ScalarType.REAL;
      case Types.FLOAT, Types.DOUBLE, Types.DECIMAL, Types.NUMERIC -> ScalarType.DOUBLE;
      case Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR -> ScalarType.VARCHAR;
      case Types.DATE -> ScalarType.DATE;
      case Types.TIMESTAMP -> ScalarType.TIMESTAMP;
      case Types.BINARY, Types.VARBINARY ->
          throw new UserException(
              "cannot store column '" + column + "': it is binary but not a column of a tensor table,"
                  + " so its tensor shape is unknown; select the tensor column directly or CAST it to TENSOR(...)");
      default -> throw new UserException(
          "cannot store column '" + column + "' of type " + typeName + " in a table");
    };
  }

  /**
   * A value read from a JDBC result set ({@code getObject}) as the catalog column expects it; a
   * value that does not convert is an error naming the column, the row and the value.
   */
  static Object toCatalog(Object value, ColumnDef column, long row) {
    if (value == null) {
      return null;
    }
    ColumnType type = column.type();
    if (type instanceof TensorType) {
      return tensorBytes(value, column.name(), row);
    }
    ScalarType s = (ScalarType) type;
    try {
      return switch (s) {
        case BOOLEAN -> switch (value) {
          case Boolean b -> b;
          case String text when text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false") -> Boolean.valueOf(text);
          default -> throw mismatch(value, column, row);
        };
        case INTEGER -> Math.toIntExact(wholeNumber(value, column, row));
        case BIGINT -> wholeNumber(value, column, row);
        case REAL -> (float) number(value, column, row);
        case DOUBLE -> number(value, column, row);
        case VARCHAR -> value instanceof byte[] || value instanceof ByteString ? failMismatch(value, column, row) : value.toString();
        case DATE -> switch (value) {
          case java.sql.Date d -> d.toLocalDate();
          case LocalDate d -> d;
          case String text -> LocalDate.parse(text.strip());
          default -> throw mismatch(value, column, row);
        };
        case TIMESTAMP -> switch (value) {
          case Timestamp t -> t;
          case String text -> Timestamp.valueOf(text.strip());
          default -> throw mismatch(value, column, row);
        };
      };
    } catch (ArithmeticException | IllegalArgumentException | java.time.DateTimeException e) {
      if (e instanceof UserException u) {
        throw u;
      }
      throw mismatch(value, column, row);
    }
  }

  /** A tensor value's bytes; anything but binary is an error. */
  static byte[] tensorBytes(Object value, String column, long row) {
    return switch (value) {
      case byte[] bytes -> bytes;
      case ByteString bs -> bs.getBytes();
      default -> throw new UserException("column '" + column + "' holds tensors, but row " + row + " gives "
          + describe(value) + "; tensors are binary values (the tensor's elements as little-endian bytes)");
    };
  }

  private static long wholeNumber(Object value, ColumnDef column, long row) {
    double d = number(value, column, row);
    if (d != Math.rint(d) || Double.isInfinite(d)) {
      throw mismatch(value, column, row);
    }
    return value instanceof Number n && !(value instanceof Double || value instanceof Float || value instanceof BigDecimal)
        ? n.longValue()
        : new BigDecimal(value.toString().strip()).longValueExact();
  }

  private static double number(Object value, ColumnDef column, long row) {
    return switch (value) {
      case Number n -> n.doubleValue();
      case String text -> Double.parseDouble(text.strip());
      default -> throw mismatch(value, column, row);
    };
  }

  private static Object failMismatch(Object value, ColumnDef column, long row) {
    throw mismatch(value, column, row);
  }

  private static UserException mismatch(Object value, ColumnDef column, long row) {
    return new UserException("column '" + column.name() + "' is " + column.type().sqlName() + "; row " + row
        + " gives " + describe(value) + ", which does not convert");
  }

  private static String describe(Object value) {
    return switch (value) {
      case String s -> "'" + s + "'";
      case byte[] b -> "a binary value of " + b.length + " bytes";
      case ByteString b -> "a binary value of " + b.length() + " bytes";
      default -> value.toString();
    };
  }

  /** Days since the epoch (Calcite's DATE) from milliseconds. */
  static int epochDay(long millis) {
    return (int) Math.floorDiv(millis, MILLIS_PER_DAY);
  }
}
