package io.dlsql.shell;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.util.List;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.InfoCmp;

/**
 * The interactive shell on a real terminal: multi-line statements, persistent history with
 * Ctrl-R search, Tab completion of keywords and names, a live progress line while a statement
 * runs, and Ctrl-C to cancel it.
 */
final class InteractiveShell {
  static final String PROMPT = "dlsql> ";
  static final String CONTINUATION_PROMPT = "   ...> ";
  /** Terminals that report no width get a progress line this wide. */
  private static final int DEFAULT_WIDTH = 80;
  /** Room for the {@code ^C} a terminal without clr_eol echoes after the progress line. */
  private static final int ECHO_ALLOWANCE = 2;

  private final Connection connection;
  private final ConnectionFactory connections;
  private final String url;
  private final Path historyFile;

  InteractiveShell(Connection connection, ConnectionFactory connections, String url, Path historyFile) {
    this.connection = connection;
    this.connections = connections;
    this.url = url;
    this.historyFile = historyFile;
  }

  /** Runs until {@code \q}, {@code quit}, {@code exit} or Ctrl-D; returns the exit code. */
  int run() throws IOException {
    try (Terminal terminal = TerminalBuilder.builder().system(true).name("dlsql").build()) {
      PrintWriter out = terminal.writer();
      SqlCompleter completer = new SqlCompleter(connection);
      completer.refresh();
      LineReader reader =
          LineReaderBuilder.builder()
              .terminal(terminal)
              .appName("dlsql")
              .parser(new SqlLineParser())
              .completer(completer)
              .variable(LineReader.HISTORY_FILE, historyFile)
              .variable(LineReader.SECONDARY_PROMPT_PATTERN, CONTINUATION_PROMPT)
              // Blinking the matching '(' stalls typing for half a second after each ')'.
              .variable(LineReader.BLINK_MATCHING_PAREN, 0)
              // '!' is an operator in SQL (<>, !=), not a history reference.
              .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
              .option(LineReader.Option.CASE_INSENSITIVE, true)
              .build();
      ShellSession session = new ShellSession(connection, out, true);
      try (ProgressMonitor progress = new ProgressMonitor(connections, new TerminalDisplay(terminal))) {
        session.setListener(
            new ShellSession.Listener() {
              @Override
              public void executionStarted(String sql) {
                progress.start(sql);
              }

              @Override
              public void executionEnded() {
                progress.stop();
              }

              @Override
              public void statementSucceeded(String sql) {
                if (StatementKind.of(sql) == StatementKind.SCHEMA_CHANGE) {
                  completer.refresh();
                }
              }
            });
        // Outside readLine the terminal is in cooked mode, so Ctrl-C arrives as SIGINT here;
        // inside readLine JLine turns it into UserInterruptException instead.
        terminal.handle(Terminal.Signal.INT, signal -> session.cancelRunning());
        out.println(banner());
        out.flush();
        return loop(reader, session, terminal);
      }
    }
  }

  private int loop(LineReader reader, ShellSession session, Terminal terminal) {
    PrintWriter out = terminal.writer();
    while (true) {
      String buffer;
      try {
        buffer = reader.readLine(PROMPT);
      } catch (UserInterruptException e) {
        continue;
      } catch (EndOfFileException e) {
        return Main.EXIT_OK;
      }
      List<ScriptItem> items;
      try {
        items = StatementSplitter.split(buffer);
      } catch (RuntimeException e) {
        out.println("Error: " + ErrorMessages.of(e));
        continue;
      }
      for (ScriptItem item : items) {
        ShellSession.Outcome outcome = session.run(item);
        if (outcome instanceof ShellSession.Outcome.Quit) {
          return Main.EXIT_OK;
        }
        if (outcome instanceof ShellSession.Outcome.Failed failed) {
          out.println("Error: " + failed.message());
        } else if (outcome instanceof ShellSession.Outcome.Cancelled) {
          // The terminal echoed ^C where the cursor was; start the message on a clean line.
          out.print('\r');
          terminal.puts(InfoCmp.Capability.clr_eol);
          out.println("cancelled");
        }
        out.flush();
        if (!(outcome instanceof ShellSession.Outcome.Done)) {
          // The rest of a pasted block likely depends on the statement that did not finish.
          break;
        }
      }
    }
  }

  private String banner() {
    String server = "";
    try {
      DatabaseMetaData meta = connection.getMetaData();
      server = " (" + meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion() + ")";
    } catch (SQLException | RuntimeException e) {
      // The banner is cosmetic; a driver without metadata still gets a shell.
    }
    return "dlsql shell, connected to " + url + server + "\nStatements end with ';'. \\help for help, \\q to quit.";
  }

  /**
   * Draws the progress line by rewriting the current terminal line. Clearing erases to the end
   * of the line, which also removes the {@code ^C} the terminal echoes after the line.
   */
  private static final class TerminalDisplay implements ProgressMonitor.Display {
    private final Terminal terminal;
    private int shownLength;

    TerminalDisplay(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public void show(String line) {
      PrintWriter writer = terminal.writer();
      writer.print('\r');
      writer.print(line);
      eraseRest(line.length());
      writer.flush();
      shownLength = line.length();
    }

    @Override
    public void clear() {
      PrintWriter writer = terminal.writer();
      writer.print('\r');
      eraseRest(0);
      writer.print('\r');
      writer.flush();
      shownLength = 0;
    }

    /** Erases what an earlier, longer line left after column {@code column}. */
    private void eraseRest(int column) {
      if (!terminal.puts(InfoCmp.Capability.clr_eol)) {
        terminal.writer().print(" ".repeat(Math.max(0, shownLength + ECHO_ALLOWANCE - column)));
      }
    }

    @Override
    public int width() {
      int width = terminal.getWidth();
      return width > 0 ? width : DEFAULT_WIDTH;
    }
  }
}
