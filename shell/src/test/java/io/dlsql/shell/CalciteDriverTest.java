package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The shell against Calcite's own JDBC driver, which dlsql's driver is built on: its result
 * sets print, and its error messages reach the user without the echo of the statement.
 */
class CalciteDriverTest {
  private static final String URL = "jdbc:calcite:";

  private static String[] run(String sql) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.run(
            new String[] {"--url", URL, "-e", sql},
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            false);
    return new String[] {
      Integer.toString(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)
    };
  }

  @Test
  void printsCalciteResults() {
    String[] result = run("SELECT * FROM (VALUES (1, 'sneaker', 0.25e0), (10, 'bag', 2.5e0)) AS t(id, name, loss)");
    assertEquals("0", result[0], result[2]);
    assertEquals(
        """
        +----+---------+------+
        | ID | NAME    | LOSS |
        +----+---------+------+
        |  1 | sneaker | 0.25 |
        | 10 | bag     |  2.5 |
        +----+---------+------+
        2 rows
        """,
        result[1]);
  }

  @Test
  void errorsDropTheStatementEcho() {
    String[] result = run("SELECT * FROM no_such_table");
    assertEquals("1", result[0]);
    assertTrue(result[2].startsWith("Error: From line 1, column 15 to line 1, column 27: Object 'NO_SUCH_TABLE' not found"), result[2]);
    assertTrue(!result[2].contains("Error while executing SQL"), result[2]);
  }
}
