package io.dlsql.catalog;

import io.dlsql.catalog.storage.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

/**
 * Writes the rows of one table: appended rows are validated, gathered into record batches of a few
 * thousand rows and written to a temp Arrow IPC file; nothing is visible to readers until {@link
 * #commit()} publishes the file in the manifest. Closing without commit aborts. Use from one
 * thread.
 */
public final class TableWriter implements AutoCloseable {
  /** Upper bound on rows per record batch. */
  static final int MAX_BATCH_ROWS = 4096;

  /** Batches of wide rows (large tensors) are cut at about this many bytes instead. */
  private static final long TARGET_BATCH_BYTES = 8L << 20;

  /** Guess of a VARCHAR value's size, only used to size batches. */
  private static final int VARCHAR_ESTIMATE_BYTES = 32;

  private enum State {
    OPEN,
    COMMITTED,
    ABORTED
  }

  private final Catalog catalog;
  private final String name;
  private final List<ColumnDef> columns;
  private final WriteMode mode;
  private final BufferAllocator allocator;
  private final VectorSchemaRoot root;
  private final TableFiles.Sink sink;
  private final int batchRows;
  private int rowsInBatch;
  private long rowCount;
  private boolean vectorsAllocated;
  private State state = State.OPEN;

  TableWriter(Catalog catalog, String name, List<ColumnDef> columns, WriteMode mode, Path tablesDir)
      throws IOException {
    this.catalog = catalog;
    this.name = name;
    this.columns = columns;
    this.mode = mode;
    this.batchRows = batchRowsFor(columns);
    this.allocator =
        catalog.allocator().newChildAllocator("table-writer:" + name, 0, Long.MAX_VALUE);
    VectorSchemaRoot r = null;
    try {
      r = VectorSchemaRoot.create(ArrowColumns.toSchema(columns), allocator);
      this.root = r;
      this.sink =
          new TableFiles.Sink(
              AtomicFiles.tempPath(tablesDir, "write-" + Catalog.safeFileName(name)), r);
    } catch (IOException | RuntimeException e) {
      if (r != null) {
        r.close();
      }
      allocator.close();
      throw e;
    }
  }

  private static int batchRowsFor(List<ColumnDef> columns) {
    long rowBytes = 1;
    for (ColumnDef c : columns) {
      rowBytes +=
          switch (c.type()) {
            case TensorType t -> t.byteSize();
            case ScalarType s when s == ScalarType.VARCHAR -> VARCHAR_ESTIMATE_BYTES;
            case ScalarType s -> Long.BYTES;
          };
    }
    return (int) Math.max(1, Math.min(MAX_BATCH_ROWS, TARGET_BATCH_BYTES / rowBytes));
  }

  /** The table being written (lower case). */
  public String name() {
    return name;
  }

  /** The columns every row must match. */
  public List<ColumnDef> columns() {
    return columns;
  }

  /**
   * The writer's own allocator, for sources that build batches to pass to {@link #appendBatch}; it
   * is closed with the writer.
   */
  public BufferAllocator allocator() {
    return allocator;
  }

  /** Rows appended so far by this writer. */
  public long rowCount() {
    return rowCount;
  }

  /**
   * Appends one row. Values are Java objects as in {@link ColumnType#javaClass()} (integral types
   * widen, {@code float[]} is accepted for FLOAT32 tensors).
   *
   * @throws UserException naming the column and row when a value does not fit its column; the row
   *     is not added and the writer stays usable
   */
  public void appendRow(Object[] values) {
    checkOpen();
    long rowNumber = rowCount + 1;
    if (values.length != columns.size()) {
      throw new UserException(
          "row "
              + rowNumber
              + " of table '"
              + name
              + "' has "
              + values.length
              + " values but the"
              + " table has "
              + columns.size()
              + " columns "
              + ArrowColumns.names(columns));
    }
    if (!vectorsAllocated) {
      for (FieldVector v : root.getFieldVectors()) {
        v.setInitialCapacity(batchRows);
        v.allocateNew();
      }
      vectorsAllocated = true;
    }
    List<FieldVector> vectors = root.getFieldVectors();
    for (int c = 0; c < values.length; c++) {
      ArrowColumns.set(vectors.get(c), rowsInBatch, columns.get(c), values[c], rowNumber);
    }
    rowsInBatch++;
    rowCount++;
    if (rowsInBatch == batchRows) {
      io(this::flushBatch);
    }
  }

  /**
   * Appends a whole record batch whose columns have the types of this table, by position. Its
   * buffers are written as they are (no per-row work); NOT NULL columns are checked for nulls.
   */
  public void appendBatch(VectorSchemaRoot batch) {
    checkOpen();
    List<FieldVector> source = batch.getFieldVectors();
    if (source.size() != columns.size()) {
      throw new UserException(
          "a batch with "
              + source.size()
              + " columns cannot be written to table '"
              + name
              + "' with "
              + columns.size()
              + " columns "
              + ArrowColumns.names(columns));
    }
    for (int c = 0; c < columns.size(); c++) {
      ColumnDef target = columns.get(c);
      ColumnDef given = ArrowColumns.fromField(source.get(c).getField());
      if (!given.type().equals(target.type())) {
        throw new UserException(
            "column '"
                + target.name()
                + "' of table '"
                + name
                + "' is "
                + target.type().sqlName()
                + " but the data has "
                + given.type().sqlName());
      }
      if (!target.nullable() && source.get(c).getNullCount() > 0) {
        int firstNull = 0;
        while (!source.get(c).isNull(firstNull)) {
          firstNull++;
        }
        throw new UserException(
            "column '"
                + target.name()
                + "', row "
                + (rowCount + firstNull + 1)
                + ": null in a NOT NULL column");
      }
    }
    io(
        () -> {
          flushBatch();
          if (batch.getRowCount() == 0) {
            return;
          }
          // Loading takes references to the caller's buffers; clearing after the write hands
          // them back untouched (resetting would zero the caller's data).
          try (ArrowRecordBatch unloaded = new VectorUnloader(batch).getRecordBatch()) {
            new VectorLoader(root).load(unloaded);
          }
          sink.writeBatch(root);
          root.clear();
          vectorsAllocated = false;
          rowCount += batch.getRowCount();
        });
  }

  /** Appends every row of a data source (bulk where the source supports it). */
  public void appendAll(DataSource source) {
    source.appendTo(this);
  }

  /**
   * Publishes the rows: CREATE and REPLACE commit the written file as the table; APPEND writes a
   * new file holding the old rows and these, then commits it. Afterwards the writer is closed.
   *
   * @throws UserException if CREATE finds the name taken or APPEND finds the table gone or changed
   *     to other columns; nothing is published then
   */
  public TableInfo commit() {
    checkOpen();
    try {
      flushBatch();
      TableFiles.Written written = sink.finish();
      releaseMemory();
      TableInfo info = catalog.commitWrittenTable(name, columns, mode, sink.path(), written);
      state = State.COMMITTED;
      return info;
    } catch (IOException e) {
      abort();
      throw Catalog.storageError("writing table '" + name + "'", e);
    } catch (RuntimeException e) {
      abort();
      throw e;
    } finally {
      deletePending();
    }
  }

  /** Discards everything written; the catalog is unchanged. Safe to call more than once. */
  public void abort() {
    if (state != State.OPEN) {
      return;
    }
    state = State.ABORTED;
    try {
      sink.close();
    } catch (IOException e) {
      // The temp file is deleted below or at the next open; nothing to recover here.
    }
    releaseMemory();
    deletePending();
  }

  /** Aborts unless committed. */
  @Override
  public void close() {
    abort();
  }

  private void flushBatch() throws IOException {
    if (rowsInBatch == 0) {
      return;
    }
    root.setRowCount(rowsInBatch);
    sink.writeBatch(root);
    for (FieldVector v : root.getFieldVectors()) {
      // Keeps the buffers for the next batch; zeroing clears validity bits of the old rows.
      ((ValueVector) v).reset();
    }
    rowsInBatch = 0;
  }

  private boolean memoryReleased;

  private void releaseMemory() {
    if (memoryReleased) {
      return;
    }
    memoryReleased = true;
    root.close();
    allocator.close();
  }

  private void deletePending() {
    try {
      Files.deleteIfExists(sink.path());
    } catch (IOException e) {
      // Left for the temp-file sweep at the next open.
    }
  }

  private void checkOpen() {
    if (state != State.OPEN) {
      throw new IllegalStateException("table writer for '" + name + "' is " + state);
    }
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private void io(IoAction action) {
    try {
      action.run();
    } catch (IOException e) {
      throw Catalog.storageError("writing table '" + name + "'", e);
    }
  }
}
