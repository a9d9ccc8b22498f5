package io.dlsql.catalog;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What the catalog knows about a committed table: its columns, row count, the size of its data file
 * and when the table was first created.
 */
public record TableInfo(
    String name, List<ColumnDef> columns, long rowCount, long bytesOnDisk, Instant created) {
  public TableInfo {
    columns = List.copyOf(columns);
  }

  /** The column of that name (case-insensitive), if any. */
  public Optional<ColumnDef> column(String columnName) {
    String n = columnName.toLowerCase(Locale.ROOT);
    return columns.stream().filter(c -> c.name().equals(n)).findFirst();
  }
}
