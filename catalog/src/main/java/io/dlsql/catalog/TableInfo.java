package io.dlsql.catalog;

import java.time.Instant;
import java.util.List;

/**
 * What the catalog knows about a committed table: its columns, row count, the size of its data
 * file and when the table was first created.
 */
public record TableInfo(
    String name, List<ColumnDef> columns, long rowCount, long bytesOnDisk, Instant created) {
  public TableInfo {
    columns = List.copyOf(columns);
  }

  /** The column of that name (case-insensitive), if any. */
  public java.util.Optional<ColumnDef> column(String columnName) {
    String n = columnName.toLowerCase(java.util.Locale.ROOT);
    return columns.stream().filter(c -> c.name().equals(n)).findFirst();
  }
}
