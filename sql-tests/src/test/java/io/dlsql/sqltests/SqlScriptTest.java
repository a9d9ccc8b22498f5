package io.dlsql.sqltests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every script under {@code src/test/resources/sql} through the JDBC driver, each on a
 * fresh data directory (format: this module's README). {@code -Dsql.test=dir/name} runs one.
 */
class SqlScriptTest {
  private static final Path SCRIPTS = Path.of("src/test/resources/sql");
  private static final Path DATA = Path.of("src/test/resources/data").toAbsolutePath();
  private static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
  private static final String NULL = "NULL";
  /** An expected cell that matches any value. */
  private static final String ANY = "<any>";
  /** System property: session settings every script starts with (see {@link #applySessionDefaults}). */
  static final String SETTINGS_PROPERTY = "sql.settings";

  @TestFactory
  Stream<DynamicTest> scripts() throws IOException {
    String only = System.getProperty("sql.test");
    List<Path> files;
    try (Stream<Path> walk = Files.walk(SCRIPTS)) {
      files = walk.filter(p -> p.toString().endsWith(".test")).sorted().toList();
    }
    return files.stream()
        .filter(p -> only == null || only.isBlank() || name(p).equals(only))
        // No test source URI: surefire's JUnit Platform provider silently drops dynamic tests that
        // carry a file URI source, so a failing script would not be reported at all.
        .map(p -> DynamicTest.dynamicTest(name(p), () -> run(p)));
  }

  private static String name(Path file) {
    String relative = SCRIPTS.relativize(file).toString().replace('\\', '/');
    return relative.substring(0, relative.length() - ".test".length());
  }

  private static void run(Path file) throws IOException, SQLException {
    SqlScript script = SqlScript.parse(name(file), Files.readString(file));
    if (script.requirements().contains("fashion-mnist")) {
      Assumptions.assumeTrue(Files.exists(FASHION_MNIST), "Debian package dataset-fashion-mnist is not installed");
    }
    Path dataDir = Files.createTempDirectory("dlsql-sqltest-");
    Properties props = new Properties();
    props.setProperty("allowed_dirs", DATA.toString());
    try (Connection connection = DriverManager.getConnection("jdbc:dlsql:" + dataDir, props)) {
      applySessionDefaults(connection);
      for (SqlScript.Record record : script.records()) {
        runRecord(script.name(), connection, record);
      }
    } finally {
      deleteTree(dataDir);
    }
  }

  /**
   * {@code -Dsql.settings=planner=off,threads=2} reruns every script with these session settings
   * in force from the start (a script's own SET still overrides them), as DuckDB reruns its suite
   * under other configurations.
   */
  static void applySessionDefaults(Connection connection) throws SQLException {
    String settings = System.getProperty(SETTINGS_PROPERTY, "");
    for (String pair : settings.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq <= 0 || !pair.substring(0, eq).trim().matches("[A-Za-z_]+")) {
        throw new IllegalArgumentException("-D" + SETTINGS_PROPERTY + " takes key=value pairs separated by commas: " + pair);
      }
      try (Statement statement = connection.createStatement()) {
        statement.execute("SET " + pair.substring(0, eq).trim() + " = '"
            + pair.substring(eq + 1).trim().replace("'", "''") + "'");
      }
    }
  }

  private static void runRecord(String script, Connection connection, SqlScript.Record record) {
    String where = script + ".test:" + record.line();
    String sql = record.sql().replace("${RESOURCES}", DATA.toString());
    try (Statement statement = connection.createStatement()) {
      switch (record.kind()) {
        case STATEMENT_OK -> statement.execute(sql);
        case STATEMENT_ERROR -> {
          try {
            statement.execute(sql);
          } catch (SQLException e) {
            checkError(where, record, e);
            return;
          }
          fail(where + ": statement should have failed: " + sql);
        }
        case QUERY -> {
          if (!statement.execute(sql)) {
            fail(where + ": query returned no result set: " + sql);
          }
          List<String> actual = rows(statement.getResultSet());
          List<String> expected = new ArrayList<>(record.expected());
          if (record.rowsort()) {
            actual.sort(Comparator.naturalOrder());
            expected.sort(Comparator.naturalOrder());
          }
          assertEquals(String.join("\n", expected), String.join("\n", withWildcards(expected, actual)),
              where + ": wrong rows for\n" + sql);
        }
      }
    } catch (SQLException e) {
      fail(where + ": " + e.getMessage() + "\n" + sql, e);
    }
  }

  /**
   * The actual rows with each value that an expected {@value #ANY} cell stands for replaced by
   * {@value #ANY}, so that values that vary between runs (sizes, timings, timestamps) can be left
   * unchecked while the rest of the row is compared.
   */
  private static List<String> withWildcards(List<String> expected, List<String> actual) {
    List<String> result = new ArrayList<>(actual);
    for (int r = 0; r < Math.min(expected.size(), actual.size()); r++) {
      if (!expected.get(r).contains(ANY)) {
        continue;
      }
      String[] want = expected.get(r).split("\t", -1);
      String[] got = actual.get(r).split("\t", -1);
      if (want.length != got.length) {
        continue;
      }
      for (int c = 0; c < want.length; c++) {
        if (want[c].equals(ANY)) {
          got[c] = ANY;
        }
      }
      result.set(r, String.join("\t", got));
    }
    return result;
  }

  private static void checkError(String where, SqlScript.Record record, SQLException e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    String expected = String.join("\n", record.expected()).strip();
    if (expected.startsWith("regex:")) {
      Pattern pattern = Pattern.compile(expected.substring("regex:".length()).strip(), Pattern.DOTALL);
      if (!pattern.matcher(message).find()) {
        fail(where + ": error message\n  " + message + "\ndoes not match /" + pattern + "/");
      }
    } else if (!message.contains(expected)) {
      fail(where + ": error message\n  " + message + "\ndoes not contain\n  " + expected);
    }
  }

  private static List<String> rows(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    List<String> rows = new ArrayList<>();
    while (rs.next()) {
      StringBuilder row = new StringBuilder();
      for (int c = 1; c <= md.getColumnCount(); c++) {
        if (c > 1) {
          row.append('\t');
        }
        Object value = rs.getObject(c);
        row.append(format(value));
      }
      rows.add(row.toString());
    }
    return rows;
  }

  private static String format(Object value) {
    if (value == null) {
      return NULL;
    }
    if (value instanceof byte[] bytes) {
      return "<" + bytes.length + " bytes>";
    }
    if (value instanceof java.math.BigDecimal d) {
      return d.stripTrailingZeros().toPlainString();
    }
    return value.toString();
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
