package io.dlsql.catalog;

import io.dlsql.catalog.storage.Checksums;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

/**
 * Writing table data files: an Arrow IPC file built batch by batch in a temp file, with its size
 * and CRC32C computed on the way out so the manifest can record them.
 */
final class TableFiles {
  private TableFiles() {}

  /** What a finished data file holds: rows, bytes on disk and the CRC32C of those bytes. */
  record Written(long rows, long bytes, int crc32c) {}

  /** An Arrow IPC file being written from one {@link VectorSchemaRoot}. */
  static final class Sink implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final Checksums.ChecksumChannel summed;
    private final ArrowFileWriter writer;
    private long rows;
    private boolean finished;

    Sink(Path path, VectorSchemaRoot root) throws IOException {
      this.path = path;
      this.channel =
          FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      try {
        this.summed = new Checksums.ChecksumChannel(channel);
        this.writer = new ArrowFileWriter(root, null, summed);
        writer.start();
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    }

    Path path() {
      return path;
    }

    /** Appends the root's current contents as one record batch. */
    void writeBatch(VectorSchemaRoot root) throws IOException {
      if (root.getRowCount() == 0) {
        return;
      }
      writer.writeBatch();
      rows += root.getRowCount();
    }

    /** Writes the footer and forces the file to disk. */
    Written finish() throws IOException {
      writer.end();
      writer.close();
      channel.force(true);
      channel.close();
      finished = true;
      return new Written(rows, summed.count(), summed.checksum());
    }

    /** Closes the file if {@link #finish} was not reached; the owner deletes it. */
    @Override
    public void close() throws IOException {
      if (!finished) {
        channel.close();
      }
    }
  }

  /**
   * Copies every batch of {@code from} into {@code sink} through {@code into} (a root with the same
   * schema that the sink writes from). Buffers move by reference, not by value.
   */
  static void copyBatches(ArrowFileReader from, VectorSchemaRoot into, Sink sink)
      throws IOException {
    VectorSchemaRoot source = from.getVectorSchemaRoot();
    VectorLoader loader = new VectorLoader(into);
    while (from.loadNextBatch()) {
      try (ArrowRecordBatch batch = new VectorUnloader(source).getRecordBatch()) {
        loader.load(batch);
      }
      sink.writeBatch(into);
    }
  }
}
