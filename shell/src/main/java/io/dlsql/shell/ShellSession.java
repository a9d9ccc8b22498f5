package io.dlsql.shell;

import io.dlsql.catalog.UserException;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Runs {@link ScriptItem}s on one connection and prints what they return: result tables, update
 * counts and the output of shell commands. The interactive shell and batch mode share it and
 * differ only in what they do with an {@link Outcome}. {@link #cancelRunning()} may be called
 * from another thread (the Ctrl-C handler) while a statement runs.
 */
final class ShellSession {
  /** How running one item ended. */
  sealed interface Outcome {
    /** The item ran; its output is printed. */
    record Done() implements Outcome {}

    /** The user asked to leave ({@code \q}, {@code quit}, {@code exit}). */
    record Quit() implements Outcome {}

    /** The item failed; the message is for the user, without any "Error:" prefix. */
    record Failed(String message) implements Outcome {}

    /** The statement was cancelled by {@link #cancelRunning()} before it finished. */
    record Cancelled() implements Outcome {}
  }

  /** Hooks around a statement's execution, for the progress bar and completion refresh. */
  interface Listener {
    /** Called on the running thread just before the statement is sent. */
    default void executionStarted(String sql) {}

    /** Called once the statement ended (results fetched or failed), before output is printed. */
    default void executionEnded() {}

    /** Called after a statement succeeded and its output was printed. */
    default void statementSucceeded(String sql) {}
  }

  static final String HELP_TEXT =
      """
      Statements end with ';' and may span lines. Besides SQL, dlsql understands:
        CREATE MODEL name (...) | CREATE MODEL name AS RESNET(...)
        TRAIN MODEL name ON (query) WITH (epochs = 5, ...)
        SELECT * FROM PREDICT(MODEL name, (query))
        EVALUATE MODEL name ON (query)
        COMPRESS MODEL name INTO new_name USING QUANTIZE(int8) | PRUNE(...) | DISTILL(...)
        EXPLAIN [ANALYZE] statement      ANALYZE MODEL name
        SHOW MODELS      DESCRIBE MODEL name      DROP MODEL [IF EXISTS] name
      Shell commands:
        \\d                list tables (and models)
        \\d name           describe a table or a model
        \\timing [on|off]  show or hide the elapsed time after each statement
        \\help             this text
        \\q, quit, exit    leave the shell (Ctrl-D too)
      Keys: Tab completes keywords and names, Ctrl-R searches history,
            Ctrl-C cancels the running statement or clears the line.""";

  private static final Set<String> SYSTEM_SCHEMAS =
      Set.of("information_schema", "metadata", "pg_catalog");
  private static final String[] ALL_TABLE_TYPES = null;
  private static final String ANY_NAME = "%";

  private final Connection connection;
  private final PrintWriter out;
  private boolean timing;
  private Listener listener = new Listener() {};
  private volatile Statement running;
  private volatile boolean cancelRequested;

  ShellSession(Connection connection, PrintWriter out, boolean timing) {
    this.connection = connection;
    this.out = out;
    this.timing = timing;
  }

  void setListener(Listener listener) {
    this.listener = listener;
  }

  boolean timing() {
    return timing;
  }

  Connection connection() {
    return connection;
  }

  /** Runs one item and prints its output; never throws for a failed statement. */
  Outcome run(ScriptItem item) {
    Outcome outcome =
        switch (item) {
          case ScriptItem.SqlStatement statement -> runSql(statement.text());
          case ScriptItem.ShellCommand command -> runCommand(command.text());
        };
    out.flush();
    return outcome;
  }

  /**
   * Asks the running statement, if any, to stop. Safe from any thread; the statement's
   * {@link #run} then returns {@link Outcome.Cancelled}.
   */
  void cancelRunning() {
    Statement statement = running;
    if (statement == null) {
      return;
    }
    cancelRequested = true;
    try {
      statement.cancel();
    } catch (SQLException e) {
      // The fetch loop also checks cancelRequested, so a driver without cancel still stops
      // at the next row.
    }
  }

  private Outcome runSql(String sql) {
    long start = System.nanoTime();
    cancelRequested = false;
    ResultTable table = null;
    long updateCount = -1;
    try (Statement statement = connection.createStatement()) {
      running = statement;
      listener.executionStarted(sql);
      try {
        if (statement.execute(sql)) {
          try (ResultSet rs = statement.getResultSet()) {
            table = ResultSetReader.read(rs, () -> cancelRequested);
          }
        } else {
          updateCount = statement.getUpdateCount();
        }
      } finally {
        running = null;
        listener.executionEnded();
      }
    } catch (SQLException | RuntimeException e) {
      return cancelRequested ? new Outcome.Cancelled() : new Outcome.Failed(ErrorMessages.of(e));
    }
    if (cancelRequested) {
      return new Outcome.Cancelled();
    }
    OptionalLong elapsed = elapsedSince(start);
    if (table != null) {
      printTable(table, elapsed);
    } else {
      boolean countsRows = StatementKind.of(sql) == StatementKind.ROW_CHANGE || updateCount > 0;
      OptionalLong affected = countsRows ? OptionalLong.of(Math.max(0, updateCount)) : OptionalLong.empty();
      out.println(TableFormatter.updateFooter(affected, elapsed));
    }
    out.flush();
    listener.statementSucceeded(sql);
    return new Outcome.Done();
  }

  private OptionalLong elapsedSince(long start) {
    return timing ? OptionalLong.of(System.nanoTime() - start) : OptionalLong.empty();
  }

  private void printTable(ResultTable table, OptionalLong elapsed) {
    for (String line : TableFormatter.format(table)) {
      out.println(line);
    }
    out.println(TableFormatter.rowsFooter(table.rows().size(), elapsed));
  }

  private Outcome runCommand(String text) {
    String[] parts = text.strip().split("\\s+", 2);
    String name = parts[0].toLowerCase(Locale.ROOT);
    String argument = parts.length > 1 ? parts[1].strip() : "";
    try {
      switch (name) {
        case "\\q", "\\quit" -> {
          return new Outcome.Quit();
        }
        case "\\timing" -> setTiming(argument);
        case "\\help", "\\h", "\\?" -> out.println(HELP_TEXT);
        case "\\d" -> {
          if (argument.isEmpty()) {
            listTables();
          } else {
            describe(argument);
          }
        }
        default -> throw new UserException("unknown command " + parts[0] + "; \\help lists the commands");
      }
    } catch (UserException | SQLException e) {
      return new Outcome.Failed(ErrorMessages.of(e));
    }
    return new Outcome.Done();
  }

  private void setTiming(String argument) {
    timing =
        switch (argument.toLowerCase(Locale.ROOT)) {
          case "" -> !timing;
          case "on" -> true;
          case "off" -> false;
          default -> throw new UserException("\\timing takes on, off or nothing, not '" + argument + "'");
        };
    out.println("Timing is " + (timing ? "on." : "off."));
  }

  private void listTables() throws SQLException {
    List<List<String>> rows = new ArrayList<>();
    try (ResultSet rs = connection.getMetaData().getTables(null, null, ANY_NAME, ALL_TABLE_TYPES)) {
      while (rs.next()) {
        String schema = rs.getString("TABLE_SCHEM");
        if (schema != null && SYSTEM_SCHEMAS.contains(schema.toLowerCase(Locale.ROOT))) {
          continue;
        }
        rows.add(List.of(nullToEmpty(schema), rs.getString("TABLE_NAME"), nullToEmpty(rs.getString("TABLE_TYPE"))));
      }
    }
    rows.sort(Comparator.comparing((List<String> r) -> r.get(0)).thenComparing(r -> r.get(1)));
    printTable(
        new ResultTable(
            List.of(
                new ResultTable.Column("schema", false),
                new ResultTable.Column("name", false),
                new ResultTable.Column("type", false)),
            rows),
        OptionalLong.empty());
  }

  /** Describes a table by its columns; a name that is no table is tried as a model. */
  private void describe(String qualifiedName) throws SQLException {
    List<String> parts = Identifiers.splitQualified(qualifiedName);
    String table = parts.getLast();
    String schema = parts.size() > 1 ? parts.get(parts.size() - 2) : null;
    List<List<String>> columns = describeTable(schema, table);
    if (!columns.isEmpty()) {
      printTable(
          new ResultTable(
              List.of(
                  new ResultTable.Column("column", false),
                  new ResultTable.Column("type", false),
                  new ResultTable.Column("nullable", false)),
              columns),
          OptionalLong.empty());
      return;
    }
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("DESCRIBE MODEL " + qualifiedName)) {
      printTable(ResultSetReader.read(rs, () -> false), OptionalLong.empty());
    } catch (SQLException e) {
      throw new UserException("no table or model named '" + qualifiedName + "'; \\d lists the tables", e);
    }
  }

  /**
   * The columns of the first table whose name matches exactly, else ignoring case; metadata
   * patterns treat '_' as a wildcard, so candidates are filtered by exact comparison.
   */
  private List<List<String>> describeTable(String schema, String table) throws SQLException {
    DatabaseMetaData meta = connection.getMetaData();
    Set<String> spellings = new LinkedHashSet<>(List.of(table, table.toUpperCase(Locale.ROOT), table.toLowerCase(Locale.ROOT)));
    for (String spelling : spellings) {
      List<List<String>> columns = new ArrayList<>();
      String foundSchema = null;
      try (ResultSet rs = meta.getColumns(null, null, spelling, ANY_NAME)) {
        while (rs.next()) {
          String rowSchema = nullToEmpty(rs.getString("TABLE_SCHEM"));
          if (!rs.getString("TABLE_NAME").equals(spelling)
              || (schema != null && !rowSchema.equalsIgnoreCase(schema))) {
            continue;
          }
          if (foundSchema == null) {
            foundSchema = rowSchema;
          } else if (!foundSchema.equals(rowSchema)) {
            continue;
          }
          String nullable = rs.getInt("NULLABLE") == DatabaseMetaData.columnNoNulls ? "NO" : "YES";
          columns.add(List.of(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"), nullable));
        }
      }
      if (!columns.isEmpty()) {
        return columns;
      }
    }
    return List.of();
  }

  private static String nullToEmpty(String text) {
    return text == null ? "" : text;
  }
}
