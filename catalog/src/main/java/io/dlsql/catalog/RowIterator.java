package io.dlsql.catalog;

import java.util.Iterator;

/**
 * A pull-style stream of rows ({@code Object[]} in column order, Java types as in {@link
 * ColumnType#javaClass()}) that holds a file or buffers until closed.
 */
public interface RowIterator extends Iterator<Object[]>, AutoCloseable {
  /** Releases what the iterator holds; never throws a checked exception. */
  @Override
  void close();
}
