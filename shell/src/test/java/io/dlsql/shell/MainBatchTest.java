package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link Main} in-process with its streams captured, as a script runner would. */
class MainBatchTest {
  @TempDir Path dir;

  /** What one run of Main left behind. */
  private record Run(int exitCode, String out, String err) {}

  private static Run main(String stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.run(
            args,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            false);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private Path script(String text) throws Exception {
    Path file = dir.resolve("script.sql");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void scriptRunsEveryStatementAndExitsZero() throws Exception {
    String url = TestDatabase.newUrl();
    Path file =
        script(
            """
            CREATE TABLE t (id INT);
            INSERT INTO t VALUES (1), (2);
            SELECT COUNT(*) AS n
              FROM t;
            """);
    Run run = main("", "--url", url, "-f", file.toString());
    assertEquals(Main.EXIT_OK, run.exitCode(), run.err());
    assertEquals(
        """
        OK
        OK (2 rows affected)
        +---+
        | N |
        +---+
        | 2 |
        +---+
        1 row
        """,
        run.out());
    assertEquals("", run.err());
  }

  @Test
  void scriptStopsAtTheFirstErrorNamingItsLine() throws Exception {
    String url = TestDatabase.newUrl();
    Path file =
        script(
            """
            CREATE TABLE t (id INT);
            -- the next statement fails

            SELECT *
              FROM no_such_table;
            CREATE TABLE never_created (id INT);
            """);
    Run run = main("", "--url", url, "-f", file.toString());
    assertEquals(Main.EXIT_FAILED, run.exitCode());
    assertEquals("OK\n", run.out());
    assertTrue(run.err().startsWith("Error at line 4 of " + file + ": "), run.err());
    assertTrue(run.err().contains("NO_SUCH_TABLE"), run.err());
    Run check = main("", "--url", url, "-e", "SELECT * FROM never_created");
    assertEquals(Main.EXIT_FAILED, check.exitCode(), "the statement after the error must not run");
  }

  @Test
  void pipedStandardInputIsABatch() {
    Run run = main("SELECT 1 AS one;\nSELECT 2 AS two;\n\\q\nSELECT broken;\n", "--url", TestDatabase.newUrl());
    assertEquals(Main.EXIT_OK, run.exitCode(), run.err());
    assertTrue(run.out().contains("| ONE |") && run.out().contains("| TWO |"), run.out());
    assertEquals("", run.err(), "\\q stops before the broken statement");
  }

  @Test
  void pipedInputErrorsNameStandardInput() {
    Run run = main("SELECT 1;\nSELECT nope;\n", "--url", TestDatabase.newUrl());
    assertEquals(Main.EXIT_FAILED, run.exitCode());
    assertTrue(run.err().startsWith("Error at line 2 of standard input: "), run.err());
  }

  @Test
  void unterminatedStringAtTheEndIsAnError() throws Exception {
    Run run = main("", "--url", TestDatabase.newUrl(), "-f", script("SELECT 1;\nSELECT 'abc\n").toString());
    assertEquals(Main.EXIT_FAILED, run.exitCode());
    assertTrue(run.err().contains("unterminated string literal starting at line 2"), run.err());
  }

  @Test
  void executeRunsOneStatement() {
    Run run = main("", "--url", TestDatabase.newUrl(), "-e", "SELECT 6 * 7 AS answer");
    assertEquals(Main.EXIT_OK, run.exitCode(), run.err());
    assertTrue(run.out().contains("|     42 |"), run.out());
    Run failed = main("", "--url", TestDatabase.newUrl(), "-e", "SELEC 1");
    assertEquals(Main.EXIT_FAILED, failed.exitCode());
    assertTrue(failed.err().startsWith("Error: "), failed.err());
  }

  @Test
  void usageErrorsExitWithTwo() {
    assertEquals(Main.EXIT_USAGE, main("", "--bogus").exitCode());
    assertEquals(Main.EXIT_USAGE, main("", "--url").exitCode());
    assertEquals(Main.EXIT_USAGE, main("", "--data", "d", "--url", "jdbc:h2:mem:").exitCode());
    assertEquals(Main.EXIT_USAGE, main("", "-f", dir.resolve("missing.sql").toString()).exitCode());
    Run help = main("", "--help");
    assertEquals(Main.EXIT_OK, help.exitCode());
    assertTrue(help.out().startsWith("usage: dlsql"));
  }

  @Test
  void connectionFailureIsReported() {
    Run run = main("SELECT 1;", "--url", "jdbc:nothing-here:x");
    assertEquals(Main.EXIT_FAILED, run.exitCode());
    assertTrue(run.err().startsWith("dlsql: cannot connect to jdbc:nothing-here:x: "), run.err());
    assertFalse(run.out().contains("OK"));
  }

  @Test
  void dataDirectoryBecomesAnAbsoluteDlsqlUrl() {
    ShellArguments arguments = ShellArguments.parse(new String[] {"--data", "some/dir"});
    assertEquals("jdbc:dlsql:" + Path.of("some/dir").toAbsolutePath().normalize(), arguments.url());
    assertTrue(ShellArguments.parse(new String[0]).url().endsWith("/dlsql-data"));
    ShellArguments remote =
        ShellArguments.parse(new String[] {"--url=jdbc:dlsql:remote:url=http://h:1", "--user", "u", "--password", "p"});
    assertEquals("jdbc:dlsql:remote:url=http://h:1", remote.url());
    assertEquals("u", remote.connectionProperties().getProperty("user"));
    assertEquals("p", remote.connectionProperties().getProperty("password"));
  }
}
