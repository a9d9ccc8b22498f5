package io.dlsql.catalog.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.ColumnType;
import io.dlsql.catalog.RowIterator;
import io.dlsql.catalog.UserException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CSV: type inference, quoting, NULLs, headers and malformed input. */
class CsvReaderTest {
  @TempDir Path dir;

  private Path write(String text) throws IOException {
    return Files.writeString(dir.resolve("f.csv"), text);
  }

  private static List<Object[]> rows(CsvReader.CsvSource s) {
    List<Object[]> out = new ArrayList<>();
    try (RowIterator it = s.rows()) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  @Test
  void infersTheNarrowestTypeThatFitsEveryValue() throws IOException {
    Path f =
        write(
            "\uFEFFId,Big,Score,Ok,Name,Mixed,Empty\r\n"
                + "1,3000000000,1.5,true,alice,1,\r\n"
                + "2,-4,2,FALSE,\"bob, jr.\",x,\r\n"
                + "3,,-1e3,false,\"say \"\"hi\"\"\",2,\r\n");
    CsvReader.CsvSource s = CsvReader.read(f, CsvOptions.DEFAULT);
    assertEquals(
        List.of(
            ColumnDef.notNull("id", ColumnType.INTEGER),
            ColumnDef.of("big", ColumnType.BIGINT),
            ColumnDef.notNull("score", ColumnType.DOUBLE),
            ColumnDef.notNull("ok", ColumnType.BOOLEAN),
            ColumnDef.notNull("name", ColumnType.VARCHAR),
            ColumnDef.notNull("mixed", ColumnType.VARCHAR),
            ColumnDef.of("empty", ColumnType.VARCHAR)),
        s.columns());
    List<Object[]> rows = rows(s);
    assertEquals(3, rows.size());
    assertArrayEquals(new Object[] {1, 3_000_000_000L, 1.5, true, "alice", "1", null}, rows.get(0));
    assertArrayEquals(new Object[] {2, -4L, 2.0, false, "bob, jr.", "x", null}, rows.get(1));
    assertArrayEquals(new Object[] {3, null, -1000.0, false, "say \"hi\"", "2", null}, rows.get(2));
  }

  @Test
  void quotedFieldsMaySpanLinesAndQuotedEmptyIsNotNull() throws IOException {
    Path f = write("a;b\n\"line one\nline two\";\"\"\n\nx;\n");
    CsvReader.CsvSource s = CsvReader.read(f, CsvOptions.DEFAULT.withDelimiter(';'));
    List<Object[]> rows = rows(s);
    assertEquals(2, rows.size());
    assertArrayEquals(new Object[] {"line one\nline two", ""}, rows.get(0));
    assertArrayEquals(new Object[] {"x", null}, rows.get(1));
  }

  @Test
  void withoutHeaderColumnsAreNumbered() throws IOException {
    Path f = write("1,2.5\n2,3\n");
    CsvReader.CsvSource s = CsvReader.read(f, CsvOptions.DEFAULT.withHeader(false));
    assertEquals(
        List.of(
            ColumnDef.notNull("c1", ColumnType.INTEGER),
            ColumnDef.notNull("c2", ColumnType.DOUBLE)),
        s.columns());
    assertEquals(2, rows(s).size());
  }

  @Test
  void numberLookalikesStayText() throws IOException {
    Path f = write("v\n1f\n0x10\nNaN\n");
    assertEquals(ColumnType.VARCHAR, CsvReader.read(f, CsvOptions.DEFAULT).columns().get(0).type());
  }

  @Test
  void malformedFilesNameTheLine() throws IOException {
    UserException width =
        assertThrows(
            UserException.class, () -> CsvReader.read(write("a,b\n1,2\n3\n"), CsvOptions.DEFAULT));
    assertTrue(
        width.getMessage().contains("line 3")
            && width.getMessage().contains("1 fields, expected 2"),
        width.getMessage());
    UserException open =
        assertThrows(
            UserException.class,
            () -> CsvReader.read(write("a\n\"never closed\n"), CsvOptions.DEFAULT));
    assertTrue(open.getMessage().contains("never closed"), open.getMessage());
    assertThrows(UserException.class, () -> CsvReader.read(write(""), CsvOptions.DEFAULT));
    assertThrows(
        UserException.class, () -> CsvReader.read(write("a,A\n1,2\n"), CsvOptions.DEFAULT));
    assertThrows(
        UserException.class, () -> CsvReader.read(dir.resolve("missing.csv"), CsvOptions.DEFAULT));
  }
}
