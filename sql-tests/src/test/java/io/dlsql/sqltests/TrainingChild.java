package io.dlsql.sqltests;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.TreeSet;

/**
 * The child JVM of {@link CrashRecoveryTest}: runs one TRAIN statement on a data directory and,
 * from a second connection to the same engine, prints a line {@code logged epoch N} as soon as
 * {@code sys.training_log} holds epoch N of the model, so the parent knows when to kill it. Only
 * this process can read the log while it trains: it holds the data directory's lock.
 *
 * <p>Arguments: data directory, model name, the TRAIN statement.
 */
public final class TrainingChild {
  static final String LOGGED_EPOCH = "logged epoch ";
  static final String FINISHED = "training finished";
  /** Short against an epoch (a second or so), so the parent learns of it almost at once. */
  private static final long POLL_MILLIS = 20;
  private static final int EXIT_FAILED = 1;

  private TrainingChild() {}

  public static void main(String[] args) throws Exception {
    String url = "jdbc:dlsql:" + args[0];
    String model = args[1];
    String train = args[2];
    PrintStream out = System.out;
    try (Connection training = DriverManager.getConnection(url);
        Connection watching = DriverManager.getConnection(url)) {
      Thread watcher =
          Thread.ofPlatform().daemon().name("training-log-watcher").start(() -> watch(watching, model, out));
      try (Statement statement = training.createStatement()) {
        statement.execute(train);
      }
      watcher.interrupt();
      watcher.join();
      out.println(FINISHED);
      out.flush();
    } catch (SQLException e) {
      e.printStackTrace(out);
      out.flush();
      System.exit(EXIT_FAILED);
    }
  }

  private static void watch(Connection connection, String model, PrintStream out) {
    Set<Integer> printed = new TreeSet<>();
    try (Statement statement = connection.createStatement()) {
      while (!Thread.currentThread().isInterrupted()) {
        try (ResultSet rs = statement.executeQuery(
            "SELECT epoch FROM sys.training_log WHERE model = '" + model + "' ORDER BY epoch")) {
          while (rs.next()) {
            if (printed.add(rs.getInt(1))) {
              out.println(LOGGED_EPOCH + rs.getInt(1));
              out.flush();
            }
          }
        }
        Thread.sleep(POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (SQLException e) {
      e.printStackTrace(out);
      out.flush();
    }
  }
}
