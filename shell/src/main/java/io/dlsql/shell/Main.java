package io.dlsql.shell;

import io.dlsql.catalog.UserException;
import io.dlsql.jdbc.server.DlsqlServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * Entry point of {@code ./dlsql}: the interactive shell, batch mode ({@code -f script.sql},
 * {@code -e "SQL"}, or statements piped to standard input) and {@code dlsql server}. Everything
 * goes through JDBC, so any {@code --url} works.
 */
public final class Main {
  /** Every statement ran. */
  public static final int EXIT_OK = 0;
  /** A statement failed (or could not be read, or no connection could be made). */
  public static final int EXIT_FAILED = 1;
  /** The command line was wrong. */
  public static final int EXIT_USAGE = 2;

  static final String SERVER_COMMAND = "server";
  private static final String STDIN_NAME = "standard input";

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals(SERVER_COMMAND)) {
      // Blocks while the server runs; it stops on a signal (its shutdown hook closes it).
      DlsqlServer.main(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    System.exit(run(args, System.in, System.out, System.err, stdinIsTerminal()));
  }

  /**
   * Runs the shell with the given streams and returns the exit code; {@code terminal} says
   * whether standard input is an interactive terminal (then the shell reads from the terminal
   * through JLine, not from {@code in}).
   */
  public static int run(String[] args, InputStream in, PrintStream out, PrintStream err, boolean terminal) {
    ShellArguments arguments;
    try {
      arguments = ShellArguments.parse(args);
      if (arguments.script() != null && !Files.isReadable(arguments.script())) {
        throw new UserException("cannot read script " + arguments.script());
      }
    } catch (UserException e) {
      err.println("dlsql: " + e.getMessage());
      err.println(ShellArguments.USAGE);
      return EXIT_USAGE;
    }
    if (arguments.help()) {
      out.println(ShellArguments.USAGE);
      return EXIT_OK;
    }
    ConnectionFactory connections =
        () -> DriverManager.getConnection(arguments.url(), arguments.connectionProperties());
    Connection connection;
    try {
      connection = connections.open();
    } catch (SQLException e) {
      err.println("dlsql: cannot connect to " + arguments.url() + ": " + ErrorMessages.of(e));
      return EXIT_FAILED;
    }
    try (connection) {
      return runConnected(arguments, connection, connections, in, out, err, terminal);
    } catch (IOException | UncheckedIOException e) {
      err.println("dlsql: " + e.getMessage());
      return EXIT_FAILED;
    } catch (SQLException e) {
      // Closing the connection failed after everything ran; the statements' results stand.
      return EXIT_OK;
    }
  }

  private static int runConnected(
      ShellArguments arguments,
      Connection connection,
      ConnectionFactory connections,
      InputStream in,
      PrintStream out,
      PrintStream err,
      boolean terminal)
      throws IOException {
    if (arguments.script() == null && arguments.command() == null && terminal) {
      return new InteractiveShell(connection, connections, arguments.url(), arguments.historyFile()).run();
    }
    PrintWriter writer = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
    BatchRunner batch = new BatchRunner(new ShellSession(connection, writer, false), err);
    if (arguments.script() != null) {
      try (BufferedReader reader = Files.newBufferedReader(arguments.script(), StandardCharsets.UTF_8)) {
        return batch.run(reader, arguments.script().toString());
      }
    }
    if (arguments.command() != null) {
      return batch.run(new BufferedReader(new StringReader(arguments.command())), null);
    }
    return batch.run(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), STDIN_NAME);
  }

  /** Interactive only when both standard input and output are a terminal. */
  private static boolean stdinIsTerminal() {
    java.io.Console console = System.console();
    return console != null && console.isTerminal();
  }
}
