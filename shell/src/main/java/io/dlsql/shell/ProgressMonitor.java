package io.dlsql.shell;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Shows a live progress line while a statement runs: a second connection polls
 * {@code sys.progress} every {@link #POLL_INTERVAL} and the row of the shell's own statement
 * (matched by its text, else the newest) is drawn by a {@link Display}. A server without that
 * table, or one that refuses a second connection, just gets no progress line.
 */
final class ProgressMonitor implements AutoCloseable {
  static final Duration POLL_INTERVAL = Duration.ofMillis(250);
  static final String PROGRESS_QUERY = "SELECT * FROM sys.progress";

  /** Where the progress line goes; called from the polling thread. */
  interface Display {
    /** Replaces the shown line with {@code line}. */
    void show(String line);

    /** Removes the shown line. */
    void clear();

    /** The width the line must fit in. */
    int width();
  }

  private final ConnectionFactory connections;
  private final Display display;
  private final ScheduledExecutorService poller;
  /** Guards generation, polling and shown; a poll from an ended statement must not draw. */
  private final Object lock = new Object();

  private long generation;
  private ScheduledFuture<?> polling;
  private boolean shown;
  /** Touched only by the polling thread. */
  private Connection connection;

  private volatile boolean unavailable;

  ProgressMonitor(ConnectionFactory connections, Display display) {
    this.connections = connections;
    this.display = display;
    this.poller =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "dlsql-progress");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Starts polling for the statement {@code sql}; the first poll comes after one interval. */
  void start(String sql) {
    if (unavailable) {
      return;
    }
    synchronized (lock) {
      long current = ++generation;
      long interval = POLL_INTERVAL.toMillis();
      polling =
          poller.scheduleWithFixedDelay(() -> poll(current, sql), interval, interval, TimeUnit.MILLISECONDS);
    }
  }

  /** Stops polling and removes the line; a poll still in flight will not draw. */
  void stop() {
    synchronized (lock) {
      generation++;
      if (polling != null) {
        polling.cancel(false);
        polling = null;
      }
      if (shown) {
        display.clear();
        shown = false;
      }
    }
  }

  @Override
  public void close() {
    stop();
    poller.shutdownNow();
    try {
      if (poller.awaitTermination(POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS) && connection != null) {
        connection.close();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException e) {
      // Closing the progress connection at exit; nothing left to do with the error.
    }
  }

  private void poll(long pollGeneration, String sql) {
    Optional<ProgressRow> row;
    try {
      row = fetch(sql);
    } catch (SQLException | RuntimeException e) {
      // No sys.progress on this server (or it failed): no bar for this statement.
      synchronized (lock) {
        if (pollGeneration == generation && polling != null) {
          polling.cancel(false);
        }
      }
      return;
    }
    synchronized (lock) {
      if (pollGeneration != generation) {
        return;
      }
      if (row.isPresent()) {
        display.show(ProgressBar.render(row.get(), display.width()));
        shown = true;
      } else if (shown) {
        display.clear();
        shown = false;
      }
    }
  }

  private Optional<ProgressRow> fetch(String sql) throws SQLException {
    if (connection == null) {
      try {
        connection = connections.open();
      } catch (SQLException e) {
        unavailable = true;
        throw e;
      }
    }
    List<ProgressRow> rows = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(PROGRESS_QUERY)) {
      while (rs.next()) {
        rows.add(ProgressRow.read(rs));
      }
    }
    return choose(rows, sql);
  }

  /** The row whose statement text is {@code sql} (newest first), else the newest row. */
  static Optional<ProgressRow> choose(List<ProgressRow> rows, String sql) {
    String wanted = normalize(sql);
    Comparator<ProgressRow> newest = Comparator.comparingLong(ProgressRow::statementId);
    Optional<ProgressRow> own =
        rows.stream().filter(r -> r.statement() != null && normalize(r.statement()).equals(wanted)).max(newest);
    return own.isPresent() ? own : rows.stream().max(newest);
  }

  /** Whitespace, case and a trailing semicolon do not tell statements apart. */
  static String normalize(String sql) {
    String text = sql.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    while (text.endsWith(";")) {
      text = text.substring(0, text.length() - 1).strip();
    }
    return text;
  }
}
