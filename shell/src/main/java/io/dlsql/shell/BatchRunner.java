package io.dlsql.shell;

import io.dlsql.catalog.UserException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Runs statements from a script or standard input in order, each as soon as its {@code ;} is
 * read, and stops at the first error with a message naming the statement's line.
 */
final class BatchRunner {
  private final ShellSession session;
  private final PrintStream err;

  BatchRunner(ShellSession session, PrintStream err) {
    this.session = session;
    this.err = err;
  }

  /**
   * Runs everything {@code input} holds; returns the exit code. {@code sourceName} names the
   * script in error messages; without one, errors carry no position (a single {@code -e}).
   */
  int run(BufferedReader input, String sourceName) throws IOException {
    StatementSplitter splitter = new StatementSplitter();
    String line;
    while ((line = input.readLine()) != null) {
      for (ScriptItem item : splitter.feedLine(line)) {
        OptionalInt exit = runItem(item, sourceName);
        if (exit.isPresent()) {
          return exit.getAsInt();
        }
      }
    }
    Optional<ScriptItem> last;
    try {
      last = splitter.finish();
    } catch (UserException e) {
      err.println(sourceName == null ? "Error: " + e.getMessage() : "Error in " + sourceName + ": " + e.getMessage());
      return Main.EXIT_FAILED;
    }
    if (last.isPresent()) {
      return runItem(last.get(), sourceName).orElse(Main.EXIT_OK);
    }
    return Main.EXIT_OK;
  }

  /** Runs one item; an exit code means stop. */
  private OptionalInt runItem(ScriptItem item, String sourceName) {
    return switch (session.run(item)) {
      case ShellSession.Outcome.Done done -> OptionalInt.empty();
      case ShellSession.Outcome.Quit quit -> OptionalInt.of(Main.EXIT_OK);
      case ShellSession.Outcome.Failed failed -> {
        report(item, sourceName, failed.message());
        yield OptionalInt.of(Main.EXIT_FAILED);
      }
      case ShellSession.Outcome.Cancelled cancelled -> {
        report(item, sourceName, "cancelled");
        yield OptionalInt.of(Main.EXIT_FAILED);
      }
    };
  }

  private void report(ScriptItem item, String sourceName, String message) {
    if (sourceName == null) {
      err.println("Error: " + message);
    } else {
      err.println("Error at line " + item.line() + " of " + sourceName + ": " + message);
    }
    err.flush();
  }
}
