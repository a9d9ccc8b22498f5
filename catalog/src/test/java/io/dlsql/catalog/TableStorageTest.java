package io.dlsql.catalog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tables: every column type round-trips through commit and reopen; writes are all-or-nothing. */
class TableStorageTest {
  @TempDir Path dir;

  private static final TensorType IMAGE = ColumnType.tensor(ElementType.UINT8, 1, 2, 3);
  private static final TensorType FEATURES = ColumnType.tensor(ElementType.FLOAT32, 4);

  private static final List<ColumnDef> ALL_TYPES =
      List.of(
          ColumnDef.notNull("id", ColumnType.INTEGER),
          ColumnDef.of("flag", ColumnType.BOOLEAN),
          ColumnDef.of("big", ColumnType.BIGINT),
          ColumnDef.of("r", ColumnType.REAL),
          ColumnDef.of("d", ColumnType.DOUBLE),
          ColumnDef.of("s", ColumnType.VARCHAR),
          ColumnDef.of("day", ColumnType.DATE),
          ColumnDef.of("ts", ColumnType.TIMESTAMP),
          ColumnDef.of("image", IMAGE),
          ColumnDef.of("features", FEATURES));

  private static Object[] sampleRow(int i) {
    byte[] image = new byte[IMAGE.byteSize()];
    for (int k = 0; k < image.length; k++) {
      image[k] = (byte) (i * 7 + k);
    }
    return new Object[] {
      i,
      i % 2 == 0,
      (long) i << 33,
      i / 4f,
      i / 3.0,
      "row " + i + " ü",
      LocalDate.of(2024, 1, 1).plusDays(i),
      Timestamp.valueOf(LocalDateTime.of(2024, 5, 6, 7, 8, 9, 123_456_000).plusSeconds(i)),
      image,
      ArrowColumns.floatsToBytes(new float[] {i, -i, 0.5f, i * 2f})
    };
  }

  private static List<Object[]> readAll(Catalog c, String table) {
    List<Object[]> rows = new ArrayList<>();
    try (TableReader r = c.readTable(table);
        RowIterator it = r.rows()) {
      it.forEachRemaining(rows::add);
    }
    return rows;
  }

  @Test
  void everyColumnTypeRoundTripsThroughReopen() {
    List<Object[]> expected = new ArrayList<>();
    try (Catalog c = Catalog.open(dir)) {
      try (TableWriter w = c.writeTable("Mixed", ALL_TYPES, WriteMode.CREATE)) {
        for (int i = 0; i < 5; i++) {
          expected.add(sampleRow(i));
          w.appendRow(sampleRow(i));
        }
        Object[] nulls = new Object[ALL_TYPES.size()];
        nulls[0] = 99;
        expected.add(nulls);
        w.appendRow(nulls);
        TableInfo info = w.commit();
        assertEquals(6, info.rowCount());
      }
    }
    try (Catalog c = Catalog.open(dir)) {
      TableInfo info = c.table("MIXED").orElseThrow();
      assertEquals("mixed", info.name());
      assertEquals(ALL_TYPES, info.columns());
      assertTrue(info.bytesOnDisk() > 0);
      List<Object[]> rows = readAll(c, "mixed");
      assertEquals(expected.size(), rows.size());
      for (int i = 0; i < rows.size(); i++) {
        assertArrayEquals(expected.get(i), rows.get(i), "row " + i);
      }
    }
  }

  @Test
  void manyRowsSplitIntoBatchesAndTensorMemoryIsContiguous() {
    int n = TableWriter.MAX_BATCH_ROWS * 2 + 17;
    List<ColumnDef> cols =
        List.of(ColumnDef.notNull("image", IMAGE), ColumnDef.notNull("label", ColumnType.INTEGER));
    try (Catalog c = Catalog.open(dir)) {
      try (TableWriter w = c.writeTable("t", cols, WriteMode.CREATE)) {
        for (int i = 0; i < n; i++) {
          w.appendRow(new Object[] {(byte[]) sampleRow(i)[8], i});
        }
        w.commit();
      }
      try (TableReader r = c.readTable("t")) {
        assertEquals(3, r.batchCount());
        int seen = 0;
        for (VectorSchemaRoot batch : r.batches()) {
          TensorBatch t = r.tensors("IMAGE");
          assertEquals(batch.getRowCount(), t.rowCount());
          assertEquals(IMAGE.byteSize(), t.rowBytes());
          MemorySegment seg = t.segment();
          for (int row = 0; row < t.rowCount(); row++) {
            int global = seen + row;
            for (int k = 0; k < t.rowBytes(); k++) {
              assertEquals(
                  (byte) (global * 7 + k),
                  seg.get(ValueLayout.JAVA_BYTE, (long) row * t.rowBytes() + k));
            }
            assertFalse(t.isNull(row));
          }
          seen += batch.getRowCount();
        }
        assertEquals(n, seen);
        assertThrows(UserException.class, () -> r.tensors("label"));
      }
    }
  }

  @Test
  void appendKeepsOldRowsAndAddsNewOnes() {
    List<ColumnDef> cols = List.of(ColumnDef.of("x", ColumnType.INTEGER));
    try (Catalog c = Catalog.open(dir)) {
      c.createTable("t", cols, false, false);
      for (int round = 0; round < 3; round++) {
        try (TableWriter w = c.writeTable("T", null, WriteMode.APPEND)) {
          w.appendRow(new Object[] {round * 10});
          w.appendRow(new Object[] {round * 10 + 1});
          w.commit();
        }
      }
      assertEquals(6, c.table("t").orElseThrow().rowCount());
      List<Object[]> rows = readAll(c, "t");
      assertEquals(List.of(0, 1, 10, 11, 20, 21), rows.stream().map(r -> r[0]).toList());
      // Only the latest data file is kept.
      assertEquals(1, countTableFiles());
    }
  }

  private long countTableFiles() {
    try (var s = java.nio.file.Files.list(dir.resolve(Catalog.TABLES_DIR))) {
      return s.count();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void appendWithDifferentColumnsIsRefused() {
    try (Catalog c = Catalog.open(dir)) {
      c.createTable("t", List.of(ColumnDef.of("x", ColumnType.INTEGER)), false, false);
      UserException e =
          assertThrows(
              UserException.class,
              () ->
                  c.writeTable(
                      "t", List.of(ColumnDef.of("x", ColumnType.VARCHAR)), WriteMode.APPEND));
      assertTrue(e.getMessage().contains("cannot append"), e.getMessage());
      assertThrows(UserException.class, () -> c.writeTable("missing", null, WriteMode.APPEND));
    }
  }

  @Test
  void createReplaceIfNotExistsAndDrop() {
    List<ColumnDef> a = List.of(ColumnDef.of("a", ColumnType.INTEGER));
    List<ColumnDef> b = List.of(ColumnDef.of("b", ColumnType.VARCHAR));
    try (Catalog c = Catalog.open(dir)) {
      assertTrue(c.createTable("T1", a, false, false));
      UserException exists =
          assertThrows(UserException.class, () -> c.createTable("t1", b, false, false));
      assertTrue(exists.getMessage().contains("already exists"), exists.getMessage());
      assertFalse(c.createTable("t1", b, false, true));
      assertEquals(a, c.table("t1").orElseThrow().columns());
      assertTrue(c.createTable("t1", b, true, false));
      assertEquals(b, c.table("t1").orElseThrow().columns());
      assertThrows(UserException.class, () -> c.createTable("t1", b, true, true));
      assertEquals(List.of("t1"), c.tables().stream().map(TableInfo::name).toList());
      assertTrue(c.dropTable("T1", false));
      assertFalse(c.dropTable("t1", true));
      assertThrows(UserException.class, () -> c.dropTable("t1", false));
      assertThrows(UserException.class, () -> c.readTable("t1"));
      assertTrue(c.tables().isEmpty());
      assertEquals(0, countTableFiles());
    }
  }

  @Test
  void nothingIsVisibleBeforeCommitAndAbortLeavesNoTrace() {
    List<ColumnDef> cols = List.of(ColumnDef.of("x", ColumnType.INTEGER));
    try (Catalog c = Catalog.open(dir)) {
      TableWriter w = c.writeTable("t", cols, WriteMode.CREATE);
      w.appendRow(new Object[] {1});
      assertTrue(c.table("t").isEmpty());
      w.abort();
      assertTrue(c.table("t").isEmpty());
      assertEquals(0, countTableFiles());

      c.createTable("u", cols, false, false);
      try (TableWriter r = c.writeTable("u", cols, WriteMode.REPLACE)) {
        r.appendRow(new Object[] {5});
        assertEquals(0, c.table("u").orElseThrow().rowCount());
      } // closed without commit: aborted
      assertEquals(0, c.table("u").orElseThrow().rowCount());
    }
  }

  @Test
  void twoCreatesOfOneNameLetOnlyTheFirstCommitWin() {
    List<ColumnDef> cols = List.of(ColumnDef.of("x", ColumnType.INTEGER));
    try (Catalog c = Catalog.open(dir)) {
      TableWriter first = c.writeTable("t", cols, WriteMode.CREATE);
      TableWriter second = c.writeTable("t", cols, WriteMode.CREATE);
      first.appendRow(new Object[] {1});
      second.appendRow(new Object[] {2});
      first.commit();
      assertThrows(UserException.class, second::commit);
      assertEquals(List.of(1), readAll(c, "t").stream().map(r -> r[0]).toList());
      assertEquals(1, countTableFiles());
    }
  }

  @Test
  void badValuesAreRejectedNamingColumnAndRow() {
    List<ColumnDef> cols =
        List.of(ColumnDef.notNull("id", ColumnType.INTEGER), ColumnDef.of("image", IMAGE));
    try (Catalog c = Catalog.open(dir);
        TableWriter w = c.writeTable("t", cols, WriteMode.CREATE)) {
      w.appendRow(new Object[] {1, new byte[IMAGE.byteSize()]});
      UserException wrongType =
          assertThrows(UserException.class, () -> w.appendRow(new Object[] {"two", null}));
      assertTrue(wrongType.getMessage().contains("column 'id', row 2"), wrongType.getMessage());
      UserException nul =
          assertThrows(UserException.class, () -> w.appendRow(new Object[] {null, null}));
      assertTrue(nul.getMessage().contains("NOT NULL"), nul.getMessage());
      UserException shape =
          assertThrows(UserException.class, () -> w.appendRow(new Object[] {2, new byte[5]}));
      assertTrue(
          shape.getMessage().contains("column 'image', row 2")
              && shape.getMessage().contains("5 bytes"),
          shape.getMessage());
      UserException arity = assertThrows(UserException.class, () -> w.appendRow(new Object[] {2}));
      assertTrue(arity.getMessage().contains("2 columns"), arity.getMessage());
      UserException range =
          assertThrows(UserException.class, () -> w.appendRow(new Object[] {1L << 40, null}));
      assertTrue(range.getMessage().contains("out of range"), range.getMessage());
      // A rejected row does not poison the writer.
      w.appendRow(new Object[] {2L, null});
      assertEquals(2, w.commit().rowCount());
      assertEquals(List.of(1, 2), readAll(c, "t").stream().map(r -> r[0]).toList());
    }
  }

  @Test
  void duplicateColumnNamesAreRefusedCaseInsensitively() {
    try (Catalog c = Catalog.open(dir)) {
      UserException e =
          assertThrows(
              UserException.class,
              () ->
                  c.createTable(
                      "t",
                      List.of(
                          ColumnDef.of("A", ColumnType.INTEGER),
                          ColumnDef.of("a", ColumnType.INTEGER)),
                      false,
                      false));
      assertTrue(e.getMessage().contains("two columns named 'a'"), e.getMessage());
    }
  }

  @Test
  void appendBatchCopiesWholeBatches() {
    List<ColumnDef> cols = List.of(ColumnDef.notNull("x", ColumnType.INTEGER));
    try (Catalog c = Catalog.open(dir)) {
      c.createTable("src", cols, false, false);
      try (TableWriter w = c.writeTable("src", null, WriteMode.APPEND)) {
        for (int i = 0; i < 10; i++) {
          w.appendRow(new Object[] {i});
        }
        w.commit();
      }
      try (TableReader r = c.readTable("src");
          TableWriter w = c.writeTable("copy", cols, WriteMode.CREATE)) {
        w.appendRow(new Object[] {-1});
        for (VectorSchemaRoot b : r.batches()) {
          w.appendBatch(b);
        }
        w.appendRow(new Object[] {-2});
        w.commit();
      }
      List<Object> xs = readAll(c, "copy").stream().map(r -> r[0]).toList();
      assertEquals(List.of(-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -2), xs);
    }
  }

  @Test
  void concurrentAppendsFromManyThreadsLoseNoRows() throws Exception {
    final int threads = 4;
    final int appendsPerThread = 5;
    List<ColumnDef> cols = List.of(ColumnDef.notNull("x", ColumnType.INTEGER));
    try (Catalog c = Catalog.open(dir)) {
      c.createTable("t", cols, false, false);
      var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
      List<java.util.concurrent.Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int base = t * 1000;
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < appendsPerThread; i++) {
                    try (TableWriter w = c.writeTable("t", null, WriteMode.APPEND)) {
                      w.appendRow(new Object[] {base + i});
                      w.commit();
                    }
                  }
                  return null;
                }));
      }
      pool.shutdown();
      assertTrue(pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES));
      for (var f : done) {
        f.get();
      }
      List<Object> xs = readAll(c, "t").stream().map(r -> r[0]).toList();
      assertEquals(threads * appendsPerThread, xs.size());
      assertEquals(threads * appendsPerThread, new java.util.HashSet<>(xs).size());
      assertEquals(threads * appendsPerThread, c.table("t").orElseThrow().rowCount());
      assertEquals(1, countTableFiles());
    }
  }

  @Test
  void aReaderOpenedBeforeADropFinishesReading() {
    List<ColumnDef> cols = List.of(ColumnDef.of("x", ColumnType.INTEGER));
    try (Catalog c = Catalog.open(dir)) {
      try (TableWriter w = c.writeTable("t", cols, WriteMode.CREATE)) {
        w.appendRow(new Object[] {7});
        w.commit();
      }
      try (TableReader r = c.readTable("t");
          RowIterator it = r.rows()) {
        c.dropTable("t", false);
        assertArrayEquals(new Object[] {7}, it.next());
      }
      assertTrue(c.table("t").isEmpty());
    }
  }

  @Test
  void columnTypesParseTheirOwnNames() {
    for (ColumnDef c : ALL_TYPES) {
      assertEquals(c.type(), ColumnType.parse(c.type().sqlName()));
    }
    assertEquals(IMAGE, ColumnType.parse("tensor(1,2,3)"));
    assertThrows(UserException.class, () -> ColumnType.parse("TENSOR(0, 2)"));
    assertThrows(UserException.class, () -> ColumnType.parse("BLOB"));
  }
}
