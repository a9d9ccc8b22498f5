package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.jline.reader.EOFError;
import org.jline.reader.Parser.ParseContext;
import org.junit.jupiter.api.Test;

class SqlLineParserTest {
  private final SqlLineParser parser = new SqlLineParser();

  @Test
  void acceptingAnUnfinishedStatementAsksForMoreLines() {
    String line = "SELECT id,\n label";
    assertThrows(EOFError.class, () -> parser.parse(line, line.length(), ParseContext.ACCEPT_LINE));
    String quoted = "SELECT 'a;";
    assertThrows(EOFError.class, () -> parser.parse(quoted, quoted.length(), ParseContext.ACCEPT_LINE));
  }

  @Test
  void completeBuffersAndCommandsAreAccepted() {
    for (String line : List.of("SELECT 1;", "SELECT 1; SELECT 2;", "\\d", "quit", "", "-- just a comment")) {
      parser.parse(line, line.length(), ParseContext.ACCEPT_LINE);
    }
  }

  @Test
  void completionDoesNotRequireACompleteStatement() {
    String line = "SELECT * FROM fash";
    assertEquals("fash", parser.parse(line, line.length(), ParseContext.COMPLETE).word());
  }

  @Test
  void wordsAreIdentifierChainsAndCommands() {
    SqlLineParser.SqlParsedLine parsed = SqlLineParser.words("SELECT t.id, 'x y' FROM sys.models -- c", 11);
    assertEquals(List.of("SELECT", "t.id", "FROM", "sys.models"), parsed.words());
    assertEquals(1, parsed.wordIndex());
    assertEquals("t.id", parsed.word());
    assertEquals(4, parsed.wordCursor());
    assertFalse(parsed.cursorInLiteral());

    SqlLineParser.SqlParsedLine command = SqlLineParser.words("\\d fa", 5);
    assertEquals(List.of("\\d", "fa"), command.words());
    assertEquals("fa", command.word());
  }

  @Test
  void cursorBetweenWordsCompletesAnEmptyWord() {
    SqlLineParser.SqlParsedLine parsed = SqlLineParser.words("SELECT * FROM  WHERE", 14);
    assertEquals(List.of("SELECT", "FROM", "", "WHERE"), parsed.words());
    assertEquals(2, parsed.wordIndex());
    assertEquals("", parsed.word());
  }

  @Test
  void noCompletionInsideAStringLiteral() {
    assertTrue(SqlLineParser.words("SELECT 'fash", 12).cursorInLiteral());
    assertFalse(SqlLineParser.words("SELECT 'fash' ", 14).cursorInLiteral());
  }
}
