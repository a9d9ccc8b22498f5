package io.dlsql.catalog.source;

import io.dlsql.catalog.ArrowColumns;
import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.ColumnType;
import io.dlsql.catalog.DataSource;
import io.dlsql.catalog.ElementType;
import io.dlsql.catalog.RowIterator;
import io.dlsql.catalog.TableWriter;
import io.dlsql.catalog.TensorType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * A validated IDX image set (with labels, if given) held in memory: rows {@code (id INTEGER, image
 * TENSOR(1, rows, cols) UINT8, label INTEGER)} where {@code id} is the 0-based position in the
 * file. Arrow batches are filled by bulk copies, without per-image objects.
 */
public final class IdxDataset implements DataSource {
  /** Rows per Arrow batch when appending to a table. */
  public static final int DEFAULT_BATCH_ROWS = 4096;

  private static final int UNSIGNED_BYTE_MASK = 0xFF;

  private final Path imagesFile;
  private final Path labelsFile;
  private final int count;
  private final int rows;
  private final int cols;
  private final byte[] images;
  private final byte[] labels;
  private final List<ColumnDef> columns;

  IdxDataset(
      Path imagesFile,
      Path labelsFile,
      int count,
      int rows,
      int cols,
      byte[] images,
      byte[] labels) {
    this.imagesFile = imagesFile;
    this.labelsFile = labelsFile;
    this.count = count;
    this.rows = rows;
    this.cols = cols;
    this.images = images;
    this.labels = labels;
    List<ColumnDef> c = new ArrayList<>();
    c.add(ColumnDef.notNull("id", ColumnType.INTEGER));
    c.add(ColumnDef.notNull("image", imageType()));
    if (labels != null) {
      c.add(ColumnDef.notNull("label", ColumnType.INTEGER));
    }
    this.columns = List.copyOf(c);
  }

  /** The tensor type of the image column: {@code TENSOR(1, rows, cols) UINT8}. */
  public TensorType imageType() {
    return ColumnType.tensor(ElementType.UINT8, 1, rows, cols);
  }

  /** Number of images. */
  public int count() {
    return count;
  }

  /** Image height in pixels. */
  public int imageRows() {
    return rows;
  }

  /** Image width in pixels. */
  public int imageCols() {
    return cols;
  }

  /** Whether there is a label column. */
  public boolean hasLabels() {
    return labels != null;
  }

  /** The label of image {@code index} (0..255). */
  public int label(int index) {
    if (labels == null) {
      throw new IllegalStateException("no labels were read with " + imagesFile);
    }
    return labels[index] & UNSIGNED_BYTE_MASK;
  }

  /** A copy of image {@code index}'s pixels, row-major. */
  public byte[] image(int index) {
    int size = rows * cols;
    return Arrays.copyOfRange(images, index * size, (index + 1) * size);
  }

  /** The files this set was read from (labels may be null). */
  public List<Path> files() {
    return labelsFile == null ? List.of(imagesFile) : List.of(imagesFile, labelsFile);
  }

  @Override
  public List<ColumnDef> columns() {
    return columns;
  }

  @Override
  public RowIterator rows() {
    return new RowIterator() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < count;
      }

      @Override
      public Object[] next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        int i = next++;
        return labels == null ? new Object[] {i, image(i)} : new Object[] {i, image(i), label(i)};
      }

      @Override
      public void close() {}
    };
  }

  /**
   * Fills Arrow batches of up to {@code batchRows} rows and hands each to {@code consumer}. A batch
   * is valid only during the call; each gets fresh buffers, so a consumer that keeps references
   * (e.g. by transferring the vectors) owns them.
   */
  public void forEachBatch(
      BufferAllocator allocator, int batchRows, Consumer<VectorSchemaRoot> consumer) {
    int imageBytes = rows * cols;
    try (VectorSchemaRoot root =
        VectorSchemaRoot.create(ArrowColumns.toSchema(columns), allocator)) {
      List<FieldVector> vectors = root.getFieldVectors();
      IntVector id = (IntVector) vectors.get(0);
      FixedSizeBinaryVector image = (FixedSizeBinaryVector) vectors.get(1);
      IntVector label = labels == null ? null : (IntVector) vectors.get(2);
      for (int start = 0; start < count; start += batchRows) {
        int n = Math.min(batchRows, count - start);
        root.clear();
        for (FieldVector v : vectors) {
          v.setInitialCapacity(n);
          v.allocateNew();
        }
        image.getDataBuffer().setBytes(0, images, start * imageBytes, (long) n * imageBytes);
        for (int i = 0; i < n; i++) {
          id.set(i, start + i);
          image.setIndexDefined(i);
          if (label != null) {
            label.set(i, labels[start + i] & UNSIGNED_BYTE_MASK);
          }
        }
        root.setRowCount(n);
        consumer.accept(root);
      }
    }
  }

  /** Bulk path: whole batches go to the writer without per-row objects. */
  @Override
  public void appendTo(TableWriter writer) {
    try (BufferAllocator alloc = writer.allocator().newChildAllocator("idx", 0, Long.MAX_VALUE)) {
      forEachBatch(alloc, DEFAULT_BATCH_ROWS, writer::appendBatch);
    }
  }
}
