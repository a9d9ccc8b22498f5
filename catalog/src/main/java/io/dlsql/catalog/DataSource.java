package io.dlsql.catalog;

import java.util.List;

/**
 * An external data set the engine exposes as a table function (IDX, CSV): its columns and its rows,
 * readable any number of times. Sources that can fill Arrow buffers directly override {@link
 * #appendTo} to skip per-row objects.
 */
public interface DataSource {
  /** The columns every row has. */
  List<ColumnDef> columns();

  /** A fresh iterator over all rows; the caller closes it. */
  RowIterator rows();

  /** Appends every row to a table writer (which must have the same columns). */
  default void appendTo(TableWriter writer) {
    try (RowIterator it = rows()) {
      while (it.hasNext()) {
        writer.appendRow(it.next());
      }
    }
  }
}
