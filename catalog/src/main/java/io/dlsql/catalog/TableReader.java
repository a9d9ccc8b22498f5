package io.dlsql.catalog;

import io.dlsql.catalog.storage.Checksums;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.message.ArrowBlock;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Reads one committed table: its schema, its record batches (by index or in order) and a row view
 * for the SQL adapter. The data file is verified against the checksum in the manifest when the
 * reader opens. Batches are loaded into one shared {@link VectorSchemaRoot}, valid until the next
 * load; use one reader per thread.
 */
public final class TableReader implements AutoCloseable {
  private final TableInfo info;
  private final BufferAllocator allocator;
  private final ArrowFileReader reader;
  private final List<ArrowBlock> blocks;

  private TableReader(
      TableInfo info, BufferAllocator allocator, ArrowFileReader reader, List<ArrowBlock> blocks) {
    this.info = info;
    this.allocator = allocator;
    this.reader = reader;
    this.blocks = blocks;
  }

  /**
   * Opens a data file, checking its size and CRC32C against what the manifest recorded and its
   * schema against the table's columns.
   */
  static TableReader open(
      Path file, TableInfo info, long expectedBytes, int expectedCrc, BufferAllocator parent)
      throws IOException {
    FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
    BufferAllocator allocator = null;
    ArrowFileReader reader = null;
    try {
      long size = channel.size();
      if (size != expectedBytes) {
        throw Checksums.corrupt(
            file, "size " + size + " bytes, the manifest says " + expectedBytes);
      }
      if (Checksums.of(channel, size) != expectedCrc) {
        throw Checksums.corrupt(file, "checksum mismatch");
      }
      allocator = parent.newChildAllocator("table-reader:" + info.name(), 0, Long.MAX_VALUE);
      reader = new ArrowFileReader(channel, allocator);
      List<ColumnDef> columns = ArrowColumns.fromSchema(reader.getVectorSchemaRoot().getSchema());
      if (!columns.equals(info.columns())) {
        throw Checksums.corrupt(
            file, "its columns " + columns + " differ from the catalog's " + info.columns());
      }
      return new TableReader(info, allocator, reader, reader.getRecordBlocks());
    } catch (IOException | RuntimeException e) {
      if (reader != null) {
        reader.close();
      } else {
        channel.close();
      }
      if (allocator != null) {
        allocator.close();
      }
      throw e;
    }
  }

  /** The table this reader reads. */
  public TableInfo info() {
    return info;
  }

  /** The table's columns. */
  public List<ColumnDef> columns() {
    return info.columns();
  }

  /** The Arrow schema of every batch. */
  public Schema schema() {
    return root().getSchema();
  }

  /** Rows in the table. */
  public long rowCount() {
    return info.rowCount();
  }

  /** Number of record batches in the file. */
  public int batchCount() {
    return blocks.size();
  }

  /**
   * Loads batch {@code index} and returns the shared root holding it (valid until the next load or
   * close).
   */
  public VectorSchemaRoot loadBatch(int index) {
    try {
      if (!reader.loadRecordBatch(blocks.get(index))) {
        throw new IllegalStateException(
            "batch " + index + " of table '" + info.name() + "' did not load");
      }
      return root();
    } catch (IOException e) {
      throw Catalog.storageError("reading table '" + info.name() + "'", e);
    }
  }

  /** The batches in file order, each loaded into the shared root as the iteration reaches it. */
  public Iterable<VectorSchemaRoot> batches() {
    return () ->
        new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < blocks.size();
          }

          @Override
          public VectorSchemaRoot next() {
            if (!hasNext()) {
              throw new NoSuchElementException();
            }
            return loadBatch(next++);
          }
        };
  }

  /** The tensor column {@code column} of the currently loaded batch, as raw memory. */
  public TensorBatch tensors(String column) {
    return TensorBatch.of(root(), column);
  }

  /**
   * All rows in order as {@code Object[]} (same Java types as {@link TableWriter#appendRow}).
   * Shares the root with {@link #batches()}: do not mix the two on one reader.
   */
  public RowIterator rows() {
    List<ColumnDef> columns = info.columns();
    return new RowIterator() {
      private int batch = -1;
      private int row;
      private int rowsInBatch;

      @Override
      public boolean hasNext() {
        while (row >= rowsInBatch) {
          if (batch + 1 >= blocks.size()) {
            return false;
          }
          rowsInBatch = loadBatch(++batch).getRowCount();
          row = 0;
        }
        return true;
      }

      @Override
      public Object[] next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        List<FieldVector> vectors = root().getFieldVectors();
        return ArrowColumns.row(vectors, columns, row++);
      }

      @Override
      public void close() {}
    };
  }

  private VectorSchemaRoot root() {
    try {
      return reader.getVectorSchemaRoot();
    } catch (IOException e) {
      throw Catalog.storageError("reading table '" + info.name() + "'", e);
    }
  }

  @Override
  public void close() {
    try {
      reader.close();
    } catch (IOException e) {
      // Closing a read-only file cannot lose data.
    } finally {
      allocator.close();
    }
  }
}
