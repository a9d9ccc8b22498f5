package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.shell.ScriptItem.ShellCommand;
import io.dlsql.shell.ScriptItem.SqlStatement;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatementSplitterTest {
  @Test
  void splitsStatementsAndKeepsTheLineOfTheirFirstToken() {
    String script =
        """
        -- fashion
        CREATE TABLE t (id INT);

        INSERT INTO t
          VALUES (1);
        SELECT * FROM t;""";
    assertEquals(
        List.of(
            new SqlStatement("CREATE TABLE t (id INT)", 2),
            new SqlStatement("INSERT INTO t\n  VALUES (1)", 4),
            new SqlStatement("SELECT * FROM t", 6)),
        StatementSplitter.split(script));
  }

  @Test
  void semicolonInsideStringsIdentifiersAndCommentsDoesNotEndAStatement() {
    String script =
        """
        SELECT 'a;b', 'it''s; fine', "odd;name", `back;tick` -- trailing; comment
        /* block; comment
           still; comment */ FROM t;
        SELECT 2;""";
    List<ScriptItem> items = StatementSplitter.split(script);
    assertEquals(2, items.size());
    assertEquals(
        """
        SELECT 'a;b', 'it''s; fine', "odd;name", `back;tick` -- trailing; comment
        /* block; comment
           still; comment */ FROM t""",
        items.get(0).text());
    assertEquals(1, items.get(0).line());
    assertEquals(new SqlStatement("SELECT 2", 4), items.get(1));
  }

  @Test
  void stringLiteralsSpanLines() {
    List<ScriptItem> items = StatementSplitter.split("SELECT 'one\n;two'\n;\nSELECT 3;");
    assertEquals(List.of(new SqlStatement("SELECT 'one\n;two'", 1), new SqlStatement("SELECT 3", 4)), items);
  }

  @Test
  void severalStatementsOnOneLine() {
    assertEquals(
        List.of(new SqlStatement("SELECT 1", 1), new SqlStatement("SELECT 2", 1)),
        StatementSplitter.split("SELECT 1; SELECT 2;"));
  }

  @Test
  void emptyStatementsAndCommentOnlyInputYieldNothing() {
    assertEquals(List.of(), StatementSplitter.split(";;\n-- only a comment\n/* and\nanother */ ;\n"));
  }

  @Test
  void commentsBeforeAStatementAreDroppedAndItsLineIsTheFirstToken() {
    assertEquals(
        List.of(new SqlStatement("SELECT 1", 3)),
        StatementSplitter.split("/* header\n comment */\n  SELECT 1;"));
  }

  @Test
  void backslashCommandsAndQuitWordsAreOneLineCommands() {
    String script =
        """
        \\timing
        SELECT 1; \\d fashion_train
        quit;
        EXIT
        """;
    assertEquals(
        List.of(
            new ShellCommand("\\timing", 1),
            new SqlStatement("SELECT 1", 2),
            new ShellCommand("\\d fashion_train", 2),
            new ShellCommand("\\q", 3),
            new ShellCommand("\\q", 4)),
        StatementSplitter.split(script));
  }

  @Test
  void quitInsideAStatementIsJustAWord() {
    assertEquals(List.of(new SqlStatement("SELECT\nexit", 1)), StatementSplitter.split("SELECT\nexit\n;"));
  }

  @Test
  void lastStatementWithoutSemicolonIsKept() {
    assertEquals(
        List.of(new SqlStatement("SELECT 1", 1), new SqlStatement("SELECT 2", 2)),
        StatementSplitter.split("SELECT 1;\nSELECT 2\n"));
  }

  @Test
  void unterminatedStringOrCommentIsAnErrorNamingItsLine() {
    UserException string = assertThrows(UserException.class, () -> StatementSplitter.split("SELECT 1;\nSELECT 'abc;\n"));
    assertEquals("unterminated string literal starting at line 2", string.getMessage());
    UserException comment = assertThrows(UserException.class, () -> StatementSplitter.split("\n\n/* never closed"));
    assertEquals("unterminated comment starting at line 3", comment.getMessage());
    UserException identifier = assertThrows(UserException.class, () -> StatementSplitter.split("SELECT \"x"));
    assertEquals("unterminated quoted identifier starting at line 1", identifier.getMessage());
  }

  @Test
  void feedingLinesReportsCompletenessAsTheInteractiveParserNeeds() {
    StatementSplitter splitter = new StatementSplitter();
    assertTrue(splitter.isComplete());
    assertEquals(List.of(), splitter.feedLine("SELECT id,"));
    assertFalse(splitter.isComplete());
    assertEquals(List.of(), splitter.feedLine("  'a;"));
    assertFalse(splitter.isComplete());
    assertEquals(List.of(new SqlStatement("SELECT id,\n  'a;\n' FROM t", 1)), splitter.feedLine("' FROM t;"));
    assertTrue(splitter.isComplete());
    splitter.feedLine("/* open");
    assertFalse(splitter.isComplete(), "inside a block comment");
    splitter.feedLine("*/ -- done");
    assertTrue(splitter.isComplete());
  }
}
