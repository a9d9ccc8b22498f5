package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class TableFormatterTest {
  @Test
  void alignsTextLeftAndNumbersRight() {
    ResultTable table =
        new ResultTable(
            List.of(new ResultTable.Column("id", true), new ResultTable.Column("name", false)),
            List.of(List.of("1", "sneaker"), List.of("120", "bag")));
    assertEquals(
        List.of(
            "+-----+---------+",
            "|  id | name    |",
            "+-----+---------+",
            "|   1 | sneaker |",
            "| 120 | bag     |",
            "+-----+---------+"),
        TableFormatter.format(table));
  }

  @Test
  void clipsLongValuesAndEscapesLineBreaks() {
    String longText = "x".repeat(TableFormatter.MAX_CELL_WIDTH + 10);
    String clipped = TableFormatter.fitCell(longText);
    assertEquals(TableFormatter.MAX_CELL_WIDTH, clipped.length());
    assertEquals("x".repeat(TableFormatter.MAX_CELL_WIDTH - 3) + "...", clipped);
    assertEquals("a\\nb\\tc", TableFormatter.fitCell("a\nb\tc"));
  }

  @Test
  void footersCountRowsAndShowTimeOnlyWhenAsked() {
    assertEquals("0 rows", TableFormatter.rowsFooter(0, OptionalLong.empty()));
    assertEquals("1 row", TableFormatter.rowsFooter(1, OptionalLong.empty()));
    assertEquals("3 rows (0.123 s)", TableFormatter.rowsFooter(3, OptionalLong.of(123_000_000L)));
    assertEquals("OK", TableFormatter.updateFooter(OptionalLong.empty(), OptionalLong.empty()));
    assertEquals("OK (1 row affected)", TableFormatter.updateFooter(OptionalLong.of(1), OptionalLong.empty()));
    assertEquals("OK (2 rows affected) (1.500 s)", TableFormatter.updateFooter(OptionalLong.of(2), OptionalLong.of(1_500_000_000L)));
  }

  @Test
  void readsResultSetsWithNullsBinaryArraysAndDoubles() throws Exception {
    try (Connection connection = DriverManager.getConnection("jdbc:h2:mem:");
        Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE images (id INT, image VARBINARY(1000), label VARCHAR(20), loss DOUBLE,"
              + " shape INT ARRAY, weights REAL ARRAY)");
      statement.execute(
          "INSERT INTO images VALUES (7, X'" + "00".repeat(784) + "', NULL, 0.28374659,"
              + " ARRAY[1, 28, 28], ARRAY[0.5, 0.25, 0, 0, 0, 0, 0, 0, 0, 1])");
      try (ResultSet rs = statement.executeQuery("SELECT * FROM images")) {
        ResultTable table = ResultSetReader.read(rs, () -> false);
        assertEquals(
            List.of("ID", "IMAGE", "LABEL", "LOSS", "SHAPE", "WEIGHTS"),
            table.columns().stream().map(ResultTable.Column::name).toList());
        assertEquals(
            List.of(true, false, false, true, false, false),
            table.columns().stream().map(ResultTable.Column::numeric).toList());
        assertEquals(
            List.of(List.of("7", "<784 bytes>", "NULL", "0.283747", "[1, 28, 28]", "<10 values>")),
            table.rows());
      }
    }
  }

  @Test
  void stopsFetchingWhenAsked() throws Exception {
    try (Connection connection = DriverManager.getConnection("jdbc:h2:mem:");
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT X FROM SYSTEM_RANGE(1, 1000)")) {
      assertEquals(0, ResultSetReader.read(rs, () -> true).rows().size());
    }
  }

  @Test
  void formatsDoublesReadably() {
    assertEquals("3", ValueRenderer.formatDouble(3.0));
    assertEquals("0.283747", ValueRenderer.formatDouble(0.28374659));
    assertEquals("123.457", ValueRenderer.formatDouble(123.456789));
    assertEquals("1234568", ValueRenderer.formatDouble(1234567.891));
    assertEquals("1.00000e-05", ValueRenderer.formatDouble(1e-5));
    assertEquals("NaN", ValueRenderer.formatDouble(Double.NaN));
  }

  @Test
  void rendersTensorLikeObjectsCompactly() throws Exception {
    assertEquals("<784 values>", ValueRenderer.renderObject(new float[784]));
    assertEquals("[0.5, 2]", ValueRenderer.renderObject(new double[] {0.5, 2}));
    assertEquals("<1 byte>", ValueRenderer.renderObject(new byte[1]));
    assertEquals("NULL", ValueRenderer.renderObject(null));
  }
}
