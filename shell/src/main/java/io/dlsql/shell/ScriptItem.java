package io.dlsql.shell;

/**
 * One unit of a script or of an accepted interactive buffer: a SQL statement sent to the
 * connection, or a shell command the shell handles itself. {@link #line()} is the 1-based line
 * where the item starts, so errors can name it.
 */
public sealed interface ScriptItem permits ScriptItem.SqlStatement, ScriptItem.ShellCommand {
  /** The item's text: a statement without its terminating {@code ;}, or a command line. */
  String text();

  /** The 1-based line of the item's first token in its script. */
  int line();

  /** A SQL statement, starting at its first token and without the terminating semicolon. */
  record SqlStatement(String text, int line) implements ScriptItem {}

  /**
   * A backslash command ({@code \q}, {@code \d name}, ...), one line long; {@code quit} and
   * {@code exit} arrive here as {@code \q}.
   */
  record ShellCommand(String text, int line) implements ScriptItem {}
}
