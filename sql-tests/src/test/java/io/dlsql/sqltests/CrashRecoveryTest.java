package io.dlsql.sqltests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training run killed with SIGKILL in the middle: a child JVM trains a model on a data
 * directory that also holds another trained model and is killed after its first completed epoch.
 * The directory must then open with every committed object intact, the other model must predict
 * exactly as before, {@code sys.training_log} must hold the completed epochs, and {@code TRAIN ...
 * WITH (resume = true)} must continue from the last completed epoch and end where an uninterrupted
 * run with the same seed ends.
 */
class CrashRecoveryTest {
  private static final int IMAGES = 300;
  private static final int EPOCHS = 6;
  private static final String TABLE = "fashion";
  /** The model trained before the crash, which the crash must not touch. */
  private static final String KEEPER = "keeper";
  /** The model whose training is killed and then resumed. */
  private static final String MODEL = "interrupted";
  /** The same definition trained without interruption: what the resumed run must reproduce. */
  private static final String REFERENCE = "uninterrupted";
  private static final String LAYERS = "(INPUT image TENSOR(1, 28, 28), CONV2D(8, KERNEL 3), RELU, MAXPOOL(2),"
      + " FLATTEN, DENSE(10)) OUTPUT label CLASSES 10";
  /** One kernel thread: training is deterministic at a fixed thread count, in any process. */
  private static final String OPTIONS = "batch_size = 32, learning_rate = 0.05, seed = 11, threads = 1";
  /** Data loading and a first epoch in a cold JVM on two shared cores. */
  private static final Duration FIRST_EPOCH_TIMEOUT = Duration.ofSeconds(180);
  private static final Pattern LOGGED = Pattern.compile(Pattern.quote(TrainingChild.LOGGED_EPOCH) + "(\\d+)");

  @TempDir Path temp;

  private static String train(String model, int epochs, String extra) {
    return "TRAIN MODEL " + model + " ON (SELECT image, label FROM " + TABLE + ") WITH (epochs = " + epochs + ", "
        + OPTIONS + extra + ")";
  }

  private static String predict(String model) {
    return "SELECT id, predicted_label, confidence FROM PREDICT(MODEL " + model + ", (SELECT id, image FROM "
        + TABLE + ")) ORDER BY id";
  }

  private static QueryRows trainingLog(Statement statement, String model) throws SQLException {
    return QueryRows.query(statement,
        "SELECT epoch, run_id, train_loss FROM sys.training_log WHERE model = '" + model + "' ORDER BY epoch");
  }

  private static List<Object> epochs(int first, int last) {
    return IntStream.rangeClosed(first, last).mapToObj(e -> (Object) (long) e).toList();
  }

  @Test
  void trainingKilledAfterAnEpochLeavesTheCatalogIntactAndResumes() throws Exception {
    FashionMnist.assumeInstalled();
    Path data = temp.resolve("data");
    String url = "jdbc:dlsql:" + data;
    QueryRows keeperBefore;
    try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement()) {
      FashionMnist.createTable(statement, TABLE, IMAGES);
      statement.execute("CREATE MODEL " + KEEPER + " " + LAYERS);
      statement.execute(train(KEEPER, 1, ""));
      keeperBefore = QueryRows.query(statement, predict(KEEPER));
      statement.execute("CREATE MODEL " + MODEL + " " + LAYERS);
      statement.execute("CREATE MODEL " + REFERENCE + " " + LAYERS);
    }

    int completed;
    try (JvmProcess child = JvmProcess.startEngine(TrainingChild.class.getName(),
        List.of(data.toString(), MODEL, train(MODEL, EPOCHS, "")))) {
      completed = Integer.parseInt(child.awaitLine(LOGGED, FIRST_EPOCH_TIMEOUT).group(1));
      child.killForcibly();
      assertFalse(child.output().contains(TrainingChild.FINISHED),
          "training ended before the kill; the test needs longer epochs:\n" + child.output());
    }

    try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement()) {
      // Every object committed before the crash is there and readable.
      QueryRows models =
          QueryRows.query(statement, "SELECT name, status, epochs_trained FROM sys.models ORDER BY name");
      assertEquals(List.of(MODEL, KEEPER, REFERENCE), models.column("name"), "models after the crash");
      assertEquals(List.of("DEFINED", "TRAINED", "DEFINED"), models.column("status"),
          "an interrupted run leaves its model as it was; the other model keeps its weights");
      assertEquals(List.of((long) IMAGES), QueryRows.query(statement, "SELECT COUNT(*) AS c FROM " + TABLE).column("c"),
          "the table is intact");
      assertEquals(keeperBefore, QueryRows.query(statement, predict(KEEPER)),
          "the other model predicts exactly as before the crash");

      QueryRows logged = trainingLog(statement, MODEL);
      List<Object> loggedEpochs = logged.column("epoch");
      int last = loggedEpochs.size();
      assertTrue(last >= completed && last < EPOCHS,
          "the log holds the epochs completed before the kill (at least " + completed + ", fewer than " + EPOCHS
              + "): " + logged.rows());
      assertEquals(epochs(1, last), loggedEpochs, "completed epochs, each once, in order");
      assertEquals(1, new HashSet<>(logged.column("run_id")).size(), "one run: " + logged.rows());

      QueryRows resumed = QueryRows.query(statement, train(MODEL, EPOCHS, ", resume = true"));
      assertEquals(epochs(last + 1, EPOCHS), resumed.column("epoch"),
          "resume starts after the last completed epoch (" + last + ") and finishes the run");

      QueryRows fullLog = trainingLog(statement, MODEL);
      assertEquals(epochs(1, EPOCHS), fullLog.column("epoch"), "the log has every epoch once: " + fullLog.rows());
      assertEquals(1, new HashSet<>(fullLog.column("run_id")).size(), "the resumed run continues the same run");
      QueryRows model = QueryRows.query(statement,
          "SELECT status, epochs_trained FROM sys.models WHERE name = '" + MODEL + "'");
      assertEquals(List.of("TRAINED", (long) EPOCHS), model.rows().get(0));
      SQLException again = assertThrows(SQLException.class,
          () -> statement.execute(train(MODEL, EPOCHS, ", resume = true")), "the checkpoint is gone once the run ends");
      assertTrue(again.getMessage().contains("no interrupted training run to resume"), again.getMessage());

      // The same seed without a crash: the resumed epochs and the final weights must be the same.
      QueryRows uninterrupted = QueryRows.query(statement, train(REFERENCE, EPOCHS, ""));
      assertEquals(uninterrupted.column("train_loss").subList(last, EPOCHS), resumed.column("train_loss"),
          "resumed epochs reproduce the uninterrupted run's losses");
      assertEquals(QueryRows.query(statement, predict(REFERENCE)), QueryRows.query(statement, predict(MODEL)),
          "the resumed model predicts exactly like the uninterrupted one");
    }
  }
}
