package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ShellSessionTest {
  private Connection connection;
  private StringWriter output;
  private ShellSession session;

  @BeforeEach
  void open() throws Exception {
    connection = TestDatabase.withModels(TestDatabase.newUrl());
    output = new StringWriter();
    session = new ShellSession(connection, new PrintWriter(output), false);
  }

  @AfterEach
  void close() throws Exception {
    connection.close();
  }

  private ShellSession.Outcome run(String script) {
    ShellSession.Outcome outcome = null;
    for (ScriptItem item : StatementSplitter.split(script)) {
      outcome = session.run(item);
    }
    return outcome;
  }

  private String takeOutput() {
    String text = output.toString();
    output.getBuffer().setLength(0);
    return text;
  }

  @Test
  void updateCountsPrintOkWithAffectedRows() {
    assertInstanceOf(ShellSession.Outcome.Done.class, run("CREATE TABLE t (id INT, name VARCHAR(10));"));
    assertEquals("OK\n", takeOutput());
    run("INSERT INTO t VALUES (1, 'a'), (2, 'b');");
    assertEquals("OK (2 rows affected)\n", takeOutput());
    run("DELETE FROM t WHERE id = 1;");
    assertEquals("OK (1 row affected)\n", takeOutput());
    run("DELETE FROM t WHERE id = 42;");
    assertEquals("OK (0 rows affected)\n", takeOutput());
  }

  @Test
  void queriesPrintATableAndARowCount() {
    run("CREATE TABLE t (id INT, name VARCHAR(10)); INSERT INTO t VALUES (1, 'sneaker'), (20, NULL);");
    takeOutput();
    run("SELECT id, name FROM t ORDER BY id;");
    assertEquals(
        """
        +----+---------+
        | ID | NAME    |
        +----+---------+
        |  1 | sneaker |
        | 20 | NULL    |
        +----+---------+
        2 rows
        """,
        takeOutput());
  }

  @Test
  void timingAddsTheElapsedTime() {
    run("\\timing");
    assertEquals("Timing is on.\n", takeOutput());
    run("SELECT 1;");
    assertTrue(takeOutput().matches("(?s).*\n1 row \\(\\d+\\.\\d{3} s\\)\n"));
    run("\\timing off");
    takeOutput();
    run("SELECT 1;");
    assertTrue(takeOutput().endsWith("\n1 row\n"));
  }

  @Test
  void errorsComeBackAsOutcomesWithTheServersMessage() {
    ShellSession.Outcome outcome = run("SELECT * FROM missing;");
    ShellSession.Outcome.Failed failed = assertInstanceOf(ShellSession.Outcome.Failed.class, outcome);
    assertTrue(failed.message().contains("MISSING"), failed.message());
    assertEquals("", takeOutput());
    ShellSession.Outcome.Failed unknown = assertInstanceOf(ShellSession.Outcome.Failed.class, run("\\nope"));
    assertEquals("unknown command \\nope; \\help lists the commands", unknown.message());
  }

  @Test
  void quitCommands() {
    for (String quit : List.of("\\q", "quit", "exit;", "QUIT")) {
      assertInstanceOf(ShellSession.Outcome.Quit.class, run(quit), quit);
    }
  }

  @Test
  void describeListsTablesAndDescribesTablesAndModels() {
    run("CREATE TABLE fashion_train (id INT NOT NULL, label INT); INSERT INTO models VALUES ('convnet', 9);");
    takeOutput();
    run("\\d");
    String tables = takeOutput();
    assertTrue(tables.contains("| PUBLIC | FASHION_TRAIN | BASE TABLE |"), tables);
    assertTrue(tables.endsWith("2 rows\n"), tables);
    run("\\d fashion_train");
    String columns = takeOutput();
    assertTrue(columns.contains("| ID     | INTEGER | NO       |"), columns);
    assertTrue(columns.contains("| LABEL  | INTEGER | YES      |"), columns);
    run("\\d convnet");
    String model = takeOutput();
    assertTrue(model.contains("| convnet |"), model);
    ShellSession.Outcome.Failed failed = assertInstanceOf(ShellSession.Outcome.Failed.class, run("\\d nothing"));
    assertEquals("no table or model named 'nothing'; \\d lists the tables", failed.message());
  }

  @Test
  void cancelStopsALongStatement() throws Exception {
    CompletableFuture<ShellSession.Outcome> outcome =
        CompletableFuture.supplyAsync(() -> run("SELECT SUM(X) FROM SYSTEM_RANGE(1, 100000000000);"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!outcome.isDone() && System.nanoTime() < deadline) {
      Thread.sleep(100);
      session.cancelRunning();
    }
    assertInstanceOf(ShellSession.Outcome.Cancelled.class, outcome.get(10, TimeUnit.SECONDS));
    // The session stays usable after a cancel.
    assertInstanceOf(ShellSession.Outcome.Done.class, run("SELECT 1;"));
  }

  @Test
  void listenerSeesStartAndEndOfEachStatement() {
    StringBuilder events = new StringBuilder();
    session.setListener(
        new ShellSession.Listener() {
          @Override
          public void executionStarted(String sql) {
            events.append("start:").append(sql).append(';');
          }

          @Override
          public void executionEnded() {
            events.append("end;");
          }

          @Override
          public void statementSucceeded(String sql) {
            events.append("ok;");
          }
        });
    run("SELECT 1; SELECT * FROM missing;");
    assertEquals("start:SELECT 1;end;ok;start:SELECT * FROM missing;end;", events.toString());
  }
}
