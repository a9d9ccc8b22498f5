package io.dlsql.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver through plain JDBC: URLs, statements, results, metadata, errors. */
class DriverTest {
  @TempDir Path dir;

  private Connection connect() throws SQLException {
    return DriverManager.getConnection("jdbc:dlsql:" + dir);
  }

  @Test
  void createInsertQuery() throws SQLException {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      assertFalse(s.execute("CREATE TABLE t (id INTEGER, name VARCHAR)"));
      assertEquals(2, s.executeUpdate("INSERT INTO t VALUES (1, 'one'), (2, 'two');"));
      try (ResultSet rs = s.executeQuery("SELECT name FROM t WHERE id = 2")) {
        assertTrue(rs.next());
        assertEquals("two", rs.getString(1));
        assertFalse(rs.next());
      }
    }
    // A second connection (after the first closed the catalog) sees the committed table.
    try (Connection c = connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
      assertTrue(rs.next());
      assertEquals(2, rs.getLong(1));
    }
  }

  @Test
  void engineStatementsReturnRowsAndLeaveNoTemporaries() throws SQLException {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id INTEGER)");
      assertTrue(s.execute("SHOW TABLES"));
      try (ResultSet rs = s.getResultSet()) {
        assertTrue(rs.next());
        assertEquals("t", rs.getString("name"));
      }
      s.execute("SELECT 1");
      List<String> schemas = new ArrayList<>();
      try (ResultSet rs = c.getMetaData().getTables(null, "tmp", "%", null)) {
        while (rs.next()) {
          schemas.add(rs.getString("TABLE_NAME"));
        }
      }
      assertEquals(List.of(), schemas);
    }
  }

  @Test
  void metadataListsTablesAndModels() throws SQLException {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE images (id INTEGER, image TENSOR(1, 8, 8) UINT8, label INTEGER)");
      s.execute("CREATE MODEL m (INPUT image TENSOR(1, 8, 8), FLATTEN, DENSE(3)) OUTPUT label CLASSES 3");
      DatabaseMetaData md = c.getMetaData();
      List<String> found = new ArrayList<>();
      try (ResultSet rs = md.getTables(null, null, "%", null)) {
        while (rs.next()) {
          found.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
        }
      }
      assertTrue(found.contains("main.images:TABLE"), found.toString());
      assertTrue(found.contains("models.m:MODEL"), found.toString());
      assertTrue(found.contains("sys.models:SYSTEM TABLE"), found.toString());
      try (ResultSet rs = md.getTables(null, null, "%", new String[] {"MODEL"})) {
        assertTrue(rs.next());
        assertEquals("m", rs.getString("TABLE_NAME"));
        assertFalse(rs.next());
      }
      try (ResultSet rs = md.getColumns(null, "main", "images", "%")) {
        List<String> columns = new ArrayList<>();
        while (rs.next()) {
          columns.add(rs.getString("COLUMN_NAME"));
        }
        assertEquals(List.of("id", "image", "label"), columns);
      }
    }
  }

  @Test
  void syntaxErrorsNameLineAndColumn() throws SQLException {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      SQLException e = assertThrows(SQLException.class, () -> s.execute("SELECT *\nFROM WHERE x"));
      assertTrue(e.getMessage().startsWith("Syntax error at line 2, column 6"), e.getMessage());
    }
  }

  @Test
  void misspelledStatementKeywordIsNamed() throws SQLException {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      SQLException e = assertThrows(SQLException.class, () -> s.execute("\n  SELEC 1"));
      assertTrue(e.getMessage().startsWith("Syntax error at line 2, column 3: 'SELEC' does not start"
          + " a statement; a statement starts with SELECT,"), e.getMessage());
      // An expression where a query belongs, later in a statement, keeps Calcite's message.
      e = assertThrows(SQLException.class, () -> s.execute("TRAIN MODEL m ON (1 + 2)"));
      assertTrue(e.getMessage().contains("Non-query expression"), e.getMessage());
    }
  }

  @Test
  void preparedQueriesRunInCalcite() throws SQLException {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id INTEGER)");
      s.execute("INSERT INTO t VALUES (1), (2), (3)");
      try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM t WHERE id > ?")) {
        p.setInt(1, 1);
        try (ResultSet rs = p.executeQuery()) {
          assertTrue(rs.next());
          assertEquals(2, rs.getInt(1));
        }
      }
      SQLException e = assertThrows(SQLException.class, () -> c.prepareStatement("SHOW MODELS"));
      assertTrue(e.getMessage().contains("only standard queries can be prepared"), e.getMessage());
    }
  }
}
