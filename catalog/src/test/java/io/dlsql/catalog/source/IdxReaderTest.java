package io.dlsql.catalog.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.ColumnType;
import io.dlsql.catalog.ElementType;
import io.dlsql.catalog.RowIterator;
import io.dlsql.catalog.TableReader;
import io.dlsql.catalog.TableWriter;
import io.dlsql.catalog.TensorBatch;
import io.dlsql.catalog.UserException;
import io.dlsql.catalog.WriteMode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX files: generated small files (raw and gzip, broken in each way) and the real data set. */
class IdxReaderTest {
  @TempDir Path dir;

  private static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");
  private static final int N = 5;
  private static final int ROWS = 3;
  private static final int COLS = 4;

  static byte[] imageFile(int count, int rows, int cols) {
    ByteBuffer b = ByteBuffer.allocate(16 + count * rows * cols);
    b.putInt(IdxReader.IMAGES_MAGIC).putInt(count).putInt(rows).putInt(cols);
    for (int i = 0; i < count * rows * cols; i++) {
      b.put((byte) (i * 31 + 7));
    }
    return b.array();
  }

  static byte[] labelFile(int count) {
    ByteBuffer b = ByteBuffer.allocate(8 + count);
    b.putInt(IdxReader.LABELS_MAGIC).putInt(count);
    for (int i = 0; i < count; i++) {
      b.put((byte) (i % 10));
    }
    return b.array();
  }

  static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(raw);
    }
    return out.toByteArray();
  }

  private Path write(String name, byte[] bytes) throws IOException {
    return Files.write(dir.resolve(name), bytes);
  }

  private void checkSmallSet(IdxDataset d) {
    assertEquals(N, d.count());
    assertEquals(ColumnType.tensor(ElementType.UINT8, 1, ROWS, COLS), d.imageType());
    byte[] raw = imageFile(N, ROWS, COLS);
    try (RowIterator it = d.rows()) {
      for (int i = 0; i < N; i++) {
        Object[] row = it.next();
        assertEquals(i, row[0]);
        assertArrayEquals(
            Arrays.copyOfRange(raw, 16 + i * ROWS * COLS, 16 + (i + 1) * ROWS * COLS),
            (byte[]) row[1]);
        assertEquals(i % 10, row[2]);
      }
      assertFalse(it.hasNext());
    }
  }

  @Test
  void readsRawAndGzipFilesRecognizedByContentNotName() throws IOException {
    checkSmallSet(
        IdxReader.read(write("a.idx", imageFile(N, ROWS, COLS)), write("b.idx", labelFile(N))));
    // Compressed without a .gz name, and uncompressed with one.
    checkSmallSet(
        IdxReader.read(
            write("c.bin", gzip(imageFile(N, ROWS, COLS))), write("d.gz", labelFile(N))));
  }

  @Test
  void imagesWithoutLabelsHaveNoLabelColumn() throws IOException {
    IdxDataset d = IdxReader.read(write("a", imageFile(N, ROWS, COLS)), null);
    assertEquals(2, d.columns().size());
    assertFalse(d.hasLabels());
  }

  @Test
  void truncatedFilesSayWhichAndHowManyBytes() throws IOException {
    byte[] full = imageFile(N, ROWS, COLS);
    Path labels = write("l", labelFile(N));
    Path cut = write("cut", Arrays.copyOf(full, full.length - 7));
    UserException e = assertThrows(UserException.class, () -> IdxReader.read(cut, labels));
    assertTrue(
        e.getMessage().contains(cut.toString())
            && e.getMessage().contains("expected " + full.length)
            && e.getMessage().contains("found " + (full.length - 7)),
        e.getMessage());

    byte[] gz = gzip(full);
    Path cutGz = write("cut.gz", Arrays.copyOf(gz, gz.length - 12));
    UserException g = assertThrows(UserException.class, () -> IdxReader.read(cutGz, labels));
    assertTrue(
        g.getMessage().contains(cutGz.toString()) && g.getMessage().contains("truncated"),
        g.getMessage());

    Path shortHeader = write("h", Arrays.copyOf(full, 10));
    UserException h = assertThrows(UserException.class, () -> IdxReader.read(shortHeader, labels));
    assertTrue(
        h.getMessage().contains("header") && h.getMessage().contains("expected 16"),
        h.getMessage());
  }

  @Test
  void wrongMagicAndSwappedFilesAreExplained() throws IOException {
    Path images = write("i", imageFile(N, ROWS, COLS));
    Path labels = write("l", labelFile(N));
    UserException swapped = assertThrows(UserException.class, () -> IdxReader.read(labels, images));
    assertTrue(swapped.getMessage().contains("looks like a label file"), swapped.getMessage());
    Path text = write("t", "hello, not an idx file at all".getBytes());
    UserException magic = assertThrows(UserException.class, () -> IdxReader.read(text, labels));
    assertTrue(
        magic.getMessage().contains(text.toString()) && magic.getMessage().contains("magic number"),
        magic.getMessage());
    UserException missing =
        assertThrows(UserException.class, () -> IdxReader.read(dir.resolve("none"), labels));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
  }

  @Test
  void countMismatchAndTrailingBytesAreRefused() throws IOException {
    Path images = write("i", imageFile(N, ROWS, COLS));
    Path labels = write("l", labelFile(N + 1));
    UserException e = assertThrows(UserException.class, () -> IdxReader.read(images, labels));
    assertTrue(
        e.getMessage().contains(N + " images") && e.getMessage().contains((N + 1) + " labels"),
        e.getMessage());
    byte[] longer = Arrays.copyOf(imageFile(N, ROWS, COLS), imageFile(N, ROWS, COLS).length + 3);
    Path padded = write("p", longer);
    assertThrows(UserException.class, () -> IdxReader.read(padded, write("l2", labelFile(N))));
  }

  @Test
  void bulkLoadIntoATableMatchesTheRows() throws IOException {
    IdxDataset d =
        IdxReader.read(write("i", gzip(imageFile(N, ROWS, COLS))), write("l", labelFile(N)));
    try (Catalog c = Catalog.open(dir.resolve("data"))) {
      try (TableWriter w = c.writeTable("train", d.columns(), WriteMode.CREATE)) {
        w.appendAll(d);
        assertEquals(N, w.commit().rowCount());
      }
      try (TableReader r = c.readTable("train");
          RowIterator rows = r.rows();
          RowIterator expected = d.rows()) {
        while (expected.hasNext()) {
          assertArrayEquals(expected.next(), rows.next());
        }
        assertFalse(rows.hasNext());
      }
    }
  }

  @Test
  void realFashionMnistLoadsCompletely() {
    Path images = FASHION.resolve("t10k-images-idx3-ubyte.gz");
    Path labels = FASHION.resolve("t10k-labels-idx1-ubyte.gz");
    Assumptions.assumeTrue(
        Files.isReadable(images) && Files.isReadable(labels),
        "Fashion-MNIST is not installed under " + FASHION);
    IdxDataset d = IdxReader.read(images, labels);
    assertEquals(10_000, d.count());
    assertEquals(28, d.imageRows());
    assertEquals(28, d.imageCols());
    int[] perClass = new int[10];
    for (int i = 0; i < d.count(); i++) {
      perClass[d.label(i)]++;
    }
    // The test split is balanced: 1000 images per class.
    for (int n : perClass) {
      assertEquals(1000, n);
    }
    try (Catalog c = Catalog.open(dir.resolve("data"))) {
      try (TableWriter w = c.writeTable("fashion_test", d.columns(), WriteMode.CREATE)) {
        w.appendAll(d);
        w.commit();
      }
      try (TableReader r = c.readTable("fashion_test")) {
        assertEquals(10_000, r.rowCount());
        VectorSchemaRoot first = r.loadBatch(0);
        TensorBatch t = r.tensors("image");
        assertEquals(first.getRowCount(), t.rowCount());
        byte[] image0 = d.image(0);
        for (int k = 0; k < image0.length; k++) {
          assertEquals(image0[k], t.segment().get(ValueLayout.JAVA_BYTE, k));
        }
      }
    }
  }
}
