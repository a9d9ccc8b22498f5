package io.dlsql.catalog;

import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.Locale;

/**
 * The scalar SQL column types the catalog stores. Row values use the boxed Java class from {@link
 * #javaClass()}; TIMESTAMP has no time zone (wall-clock time, stored as microseconds).
 */
public enum ScalarType implements ColumnType {
  BOOLEAN(Boolean.class),
  INTEGER(Integer.class),
  BIGINT(Long.class),
  REAL(Float.class),
  DOUBLE(Double.class),
  VARCHAR(String.class),
  DATE(LocalDate.class),
  TIMESTAMP(Timestamp.class);

  private final Class<?> javaClass;

  ScalarType(Class<?> javaClass) {
    this.javaClass = javaClass;
  }

  @Override
  public String sqlName() {
    return name();
  }

  @Override
  public Class<?> javaClass() {
    return javaClass;
  }

  /** Parses a scalar type name case-insensitively, accepting the common SQL synonyms. */
  public static ScalarType parse(String name) {
    String n = name.trim().toUpperCase(Locale.ROOT);
    return switch (n) {
      case "BOOLEAN", "BOOL" -> BOOLEAN;
      case "INTEGER", "INT" -> INTEGER;
      case "BIGINT" -> BIGINT;
      case "REAL", "FLOAT" -> REAL;
      case "DOUBLE", "DOUBLE PRECISION" -> DOUBLE;
      case "VARCHAR", "STRING", "TEXT" -> VARCHAR;
      case "DATE" -> DATE;
      case "TIMESTAMP" -> TIMESTAMP;
      default ->
          throw new UserException(
              "unknown column type '"
                  + name
                  + "': expected BOOLEAN, INTEGER, BIGINT, REAL, DOUBLE, VARCHAR, DATE, TIMESTAMP"
                  + " or TENSOR(d1, ..., dn)");
    };
  }
}
