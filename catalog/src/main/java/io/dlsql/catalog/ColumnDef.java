package io.dlsql.catalog;

import java.util.Locale;

/**
 * One column of a table: its name (stored lower case, since names are case-insensitive), type and
 * whether it may hold nulls.
 */
public record ColumnDef(String name, ColumnType type, boolean nullable) {
  public ColumnDef {
    if (name == null || name.isBlank()) {
      throw new UserException("a column needs a non-empty name");
    }
    if (type == null) {
      throw new IllegalArgumentException("column " + name + " has no type");
    }
    name = name.toLowerCase(Locale.ROOT);
  }

  /** A nullable column. */
  public static ColumnDef of(String name, ColumnType type) {
    return new ColumnDef(name, type, true);
  }

  /** A NOT NULL column. */
  public static ColumnDef notNull(String name, ColumnType type) {
    return new ColumnDef(name, type, false);
  }

  @Override
  public String toString() {
    return name + " " + type.sqlName() + (nullable ? "" : " NOT NULL");
  }
}
