package io.dlsql.shell;

import io.dlsql.catalog.UserException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Splits SQL text into statements ended by {@code ;} and one-line shell commands, fed one line at
 * a time so that batch input can run each statement as soon as it is complete. A {@code ;} inside
 * a string literal, a quoted identifier or a comment does not end a statement. Each item keeps
 * the line of its first token.
 */
public final class StatementSplitter {
  private static final char STATEMENT_END = ';';
  private static final char COMMAND_PREFIX = '\\';
  private static final String QUIT_COMMAND = "\\q";
  private static final List<String> QUIT_WORDS = List.of("quit", "exit");
  private static final int NO_STATEMENT = 0;

  /** Where the lexer is between characters; only CODE lets {@code ;} end a statement. */
  private enum Lexical {
    CODE,
    SINGLE_QUOTED,
    DOUBLE_QUOTED,
    BACK_QUOTED,
    BLOCK_COMMENT;

    char closing() {
      return switch (this) {
        case SINGLE_QUOTED -> '\'';
        case DOUBLE_QUOTED -> '"';
        case BACK_QUOTED -> '`';
        case CODE, BLOCK_COMMENT -> throw new IllegalStateException("no closing quote in " + this);
      };
    }
  }

  private final StringBuilder statement = new StringBuilder();
  private Lexical state = Lexical.CODE;
  private int lineNumber;
  private int statementLine = NO_STATEMENT;
  private int openedLine;

  /** Splits a whole script; a last statement without {@code ;} is kept. */
  public static List<ScriptItem> split(String script) {
    StatementSplitter splitter = new StatementSplitter();
    List<ScriptItem> items = new ArrayList<>();
    for (String line : script.split("\r?\n", -1)) {
      items.addAll(splitter.feedLine(line));
    }
    splitter.finish().ifPresent(items::add);
    return items;
  }

  /** Consumes one line (without its terminator) and returns the items it completes. */
  public List<ScriptItem> feedLine(String line) {
    lineNumber++;
    List<ScriptItem> items = new ArrayList<>();
    int length = line.length();
    int i = 0;
    while (i < length) {
      char c = line.charAt(i);
      char next = i + 1 < length ? line.charAt(i + 1) : 0;
      switch (state) {
        case CODE -> {
          if (c == '-' && next == '-') {
            // A line comment belongs to the statement only once the statement has begun.
            appendIfStarted(line, i, length);
            i = length;
          } else if (c == '/' && next == '*') {
            state = Lexical.BLOCK_COMMENT;
            openedLine = lineNumber;
            appendIfStarted(line, i, i + 2);
            i += 2;
          } else if (c == STATEMENT_END) {
            if (statementLine != NO_STATEMENT) {
              items.add(new ScriptItem.SqlStatement(statement.toString().strip(), statementLine));
              statement.setLength(0);
              statementLine = NO_STATEMENT;
            }
            i++;
          } else if (Character.isWhitespace(c)) {
            appendIfStarted(line, i, i + 1);
            i++;
          } else if (statementLine == NO_STATEMENT && isCommandStart(line, i)) {
            items.add(commandItem(line.substring(i).strip()));
            i = length;
          } else {
            if (statementLine == NO_STATEMENT) {
              statementLine = lineNumber;
            }
            state = switch (c) {
              case '\'' -> Lexical.SINGLE_QUOTED;
              case '"' -> Lexical.DOUBLE_QUOTED;
              case '`' -> Lexical.BACK_QUOTED;
              default -> Lexical.CODE;
            };
            if (state != Lexical.CODE) {
              openedLine = lineNumber;
            }
            statement.append(c);
            i++;
          }
        }
        case BLOCK_COMMENT -> {
          if (c == '*' && next == '/') {
            state = Lexical.CODE;
            appendIfStarted(line, i, i + 2);
            i += 2;
          } else {
            appendIfStarted(line, i, i + 1);
            i++;
          }
        }
        case SINGLE_QUOTED, DOUBLE_QUOTED, BACK_QUOTED -> {
          statement.append(c);
          if (c == state.closing()) {
            if (next == c) {
              // A doubled quote is an escaped quote character inside the literal.
              statement.append(next);
              i++;
            } else {
              state = Lexical.CODE;
            }
          }
          i++;
        }
      }
    }
    if (statementLine != NO_STATEMENT) {
      statement.append('\n');
    }
    return items;
  }

  /**
   * Ends the input: returns the pending statement that had no {@code ;}, if any.
   *
   * @throws UserException if the input ends inside a string, quoted identifier or comment
   */
  public Optional<ScriptItem> finish() {
    if (state != Lexical.CODE) {
      throw new UserException(
          "unterminated " + describe(state) + " starting at line " + openedLine);
    }
    if (statementLine == NO_STATEMENT) {
      return Optional.empty();
    }
    ScriptItem last = new ScriptItem.SqlStatement(statement.toString().strip(), statementLine);
    statement.setLength(0);
    statementLine = NO_STATEMENT;
    return Optional.of(last);
  }

  /** True when nothing is pending: no partial statement and no open string or comment. */
  public boolean isComplete() {
    return state == Lexical.CODE && statementLine == NO_STATEMENT;
  }

  private void appendIfStarted(String line, int from, int to) {
    if (statementLine != NO_STATEMENT) {
      statement.append(line, from, to);
    }
  }

  private static boolean isCommandStart(String line, int index) {
    if (line.charAt(index) == COMMAND_PREFIX) {
      return true;
    }
    return QUIT_WORDS.contains(withoutStatementEnd(line.substring(index)).toLowerCase(Locale.ROOT));
  }

  private ScriptItem commandItem(String text) {
    String command = withoutStatementEnd(text);
    if (QUIT_WORDS.contains(command.toLowerCase(Locale.ROOT))) {
      command = QUIT_COMMAND;
    }
    return new ScriptItem.ShellCommand(command, lineNumber);
  }

  private static String withoutStatementEnd(String text) {
    String stripped = text.strip();
    while (!stripped.isEmpty() && stripped.charAt(stripped.length() - 1) == STATEMENT_END) {
      stripped = stripped.substring(0, stripped.length() - 1).strip();
    }
    return stripped;
  }

  private static String describe(Lexical state) {
    return switch (state) {
      case SINGLE_QUOTED -> "string literal";
      case DOUBLE_QUOTED, BACK_QUOTED -> "quoted identifier";
      case BLOCK_COMMENT -> "comment";
      case CODE -> throw new IllegalStateException("code is not unterminated");
    };
  }
}
