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

  /** A value read from a JDBC result set ({@code getObject}) as the catalog expects it. */
  static Object toCatalog(Object value, ColumnDef column) {
    if (value == null) {
      return null;
    }
    ColumnType type = column.type();
    if (type instanceof TensorType) {
      if (value instanceof byte[]) {
        return value;
      }
      if (value instanceof ByteString bs) {
        return bs.getBytes();
      }
      throw new UserException("column '" + column.name() + "' is a tensor but got " + value.getClass().getSimpleName());
    }
    ScalarType s = (ScalarType) type;
    return switch (s) {
      case BOOLEAN -> value instanceof Boolean ? value : Boolean.valueOf(value.toString());
      case INTEGER -> ((Number) value).intValue();
      case BIGINT -> ((Number) value).longValue();
      case REAL -> ((Number) value).floatValue();
      case DOUBLE -> value instanceof BigDecimal d ? d.doubleValue() : ((Number) value).doubleValue();
      case VARCHAR -> value.toString();
      case DATE -> value instanceof java.sql.Date d ? d.toLocalDate() : value;
      case TIMESTAMP -> value;
    };
  }

  /** Days since the epoch (Calcite's DATE) from milliseconds. */
  static int epochDay(long millis) {
    return (int) Math.floorDiv(millis, MILLIS_PER_DAY);
  }
}
