package io.dlsql.shell;

import io.dlsql.catalog.UserException;
import java.util.Arrays;

/**
 * Extracts the message a user should see from a failed statement: the engine's own
 * {@link UserException} message when one is in the cause chain, otherwise the driver's message
 * without the echo of the statement text (the shell already shows which statement failed).
 */
final class ErrorMessages {
  /** Parser errors list every expected token; beyond this many lines the list is cut. */
  static final int MAX_LINES = 12;

  private static final String STATEMENT_ECHO_START = "Error while executing SQL \"";
  private static final String STATEMENT_ECHO_END = "\": ";

  private ErrorMessages() {}

  static String of(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof UserException && t.getMessage() != null) {
        return clip(t.getMessage());
      }
    }
    String message = error.getMessage();
    if (message == null || message.isBlank()) {
      Throwable cause = error.getCause();
      if (cause != null && cause != error) {
        return of(cause);
      }
      return error.getClass().getSimpleName();
    }
    if (message.startsWith(STATEMENT_ECHO_START)) {
      int end = message.indexOf(STATEMENT_ECHO_END, STATEMENT_ECHO_START.length());
      if (end >= 0) {
        message = message.substring(end + STATEMENT_ECHO_END.length());
      }
    }
    return clip(message);
  }

  private static String clip(String message) {
    String[] lines = message.strip().split("\r?\n");
    if (lines.length <= MAX_LINES) {
      return String.join("\n", lines);
    }
    return String.join("\n", Arrays.copyOf(lines, MAX_LINES)) + "\n    ...";
  }
}
