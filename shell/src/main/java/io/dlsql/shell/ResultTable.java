package io.dlsql.shell;

import java.util.List;

/**
 * A fetched result, already rendered to display strings: the column headers with their
 * alignment, and one list of cells per row.
 */
record ResultTable(List<Column> columns, List<List<String>> rows) {
  ResultTable {
    columns = List.copyOf(columns);
    rows = List.copyOf(rows);
    for (List<String> row : rows) {
      if (row.size() != columns.size()) {
        throw new IllegalStateException(
            "row has " + row.size() + " cells for " + columns.size() + " columns");
      }
    }
  }

  /** A column header; numeric columns are right-aligned. */
  record Column(String name, boolean numeric) {}
}
