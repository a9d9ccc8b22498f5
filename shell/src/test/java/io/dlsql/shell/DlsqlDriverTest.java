package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shell on dlsql's own embedded driver: models reach completion and {@code \d}. */
class DlsqlDriverTest {
  @TempDir Path dataDir;

  @Test
  void modelsAndTablesReachCompletionAndDescribe() throws Exception {
    try (Connection connection = DriverManager.getConnection("jdbc:dlsql:" + dataDir)) {
      StringWriter output = new StringWriter();
      ShellSession session = new ShellSession(connection, new PrintWriter(output), false);
      String script =
          """
          CREATE TABLE things AS SELECT * FROM (VALUES (1, 'a')) AS v(id, name);
          CREATE MODEL tiny (INPUT image TENSOR(1, 28, 28), FLATTEN, DENSE(10)) OUTPUT label CLASSES 10;
          \\d tiny
          """;
      for (ScriptItem item : StatementSplitter.split(script)) {
        ShellSession.Outcome outcome = session.run(item);
        assertInstanceOf(ShellSession.Outcome.Done.class, outcome, item + " -> " + outcome + "\n" + output);
      }
      assertTrue(output.toString().contains("| DENSE"), output.toString());

      SchemaNames names = SchemaNames.load(connection);
      assertEquals(java.util.List.of("tiny"), names.models());
      assertTrue(names.tables().stream().anyMatch(t -> t.name().equals("things")), names.tables().toString());
      assertFalse(names.tables().stream().anyMatch(t -> t.name().equals("tiny")), "models are no tables");
      assertEquals(java.util.List.of("id", "name"), names.columnsByTable().get("things"));
    }
  }
}
