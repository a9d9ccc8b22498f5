package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProgressMonitorTest {
  private static ProgressRow row(long id, String statement, int batch) {
    return new ProgressRow(id, statement, "train", "convnet", 2, 5, batch, 400, 0.41234, 1234.4, 10, 42);
  }

  @Test
  void rendersEpochBarLossSpeedAndEta() {
    String bar = "[" + "#".repeat(ProgressBar.MAX_BAR_WIDTH / 2) + ".".repeat(ProgressBar.MAX_BAR_WIDTH / 2) + "]";
    assertEquals(
        "train convnet epoch 2/5  " + bar + " 200/400  loss 0.4123  1234 img/s  ETA 0:42",
        ProgressBar.render(row(1, "x", 200), 200));
  }

  @Test
  void barShrinksToFitTheTerminalAndUnknownPartsAreLeftOut() {
    ProgressRow row = row(1, "x", 100);
    String narrow = ProgressBar.render(row, 90);
    assertTrue(narrow.length() < 90, narrow);
    assertTrue(narrow.contains("100/400"), narrow);
    ProgressRow sparse =
        new ProgressRow(1, null, "calibrate", null, ProgressRow.UNKNOWN, ProgressRow.UNKNOWN, 3, 10,
            Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    assertEquals("calibrate  [#####..............] 3/10", ProgressBar.render(sparse, 40));
    assertEquals("1:02:03", ProgressBar.duration(3723));
    assertEquals("0:05", ProgressBar.duration(4.6));
  }

  @Test
  void choosesTheShellsOwnStatementElseTheNewest() {
    List<ProgressRow> rows = List.of(row(1, "TRAIN MODEL a ON (t)", 1), row(3, "TRAIN MODEL b ON (t)", 2), row(2, "train  model A on (t);", 3));
    assertEquals(3, ProgressMonitor.choose(rows, "TRAIN MODEL a\nON (t)").orElseThrow().batch());
    assertEquals(2, ProgressMonitor.choose(rows, "something else").orElseThrow().batch());
    assertEquals(Optional.empty(), ProgressMonitor.choose(List.of(), "x"));
  }

  @Test
  void pollsSysProgressOnASecondConnectionAndClearsAtTheEnd() throws Exception {
    String url = TestDatabase.newUrl();
    try (Connection setup = DriverManager.getConnection(url);
        Statement statement = setup.createStatement()) {
      statement.execute("CREATE SCHEMA sys");
      statement.execute(
          "CREATE TABLE sys.progress (statement_id BIGINT, statement VARCHAR(1000), phase VARCHAR(20),"
              + " model VARCHAR(100), epoch INT, epochs INT, batch INT, batches INT, loss DOUBLE,"
              + " images_per_sec DOUBLE, elapsed_s DOUBLE, eta_s DOUBLE)");
      statement.execute(
          "INSERT INTO sys.progress VALUES (7, 'TRAIN MODEL convnet ON (t)', 'train', 'convnet', 1, 3,"
              + " 50, 100, 0.5, 900, 3, 9)");
      RecordingDisplay display = new RecordingDisplay();
      try (ProgressMonitor monitor = new ProgressMonitor(() -> DriverManager.getConnection(url), display)) {
        monitor.start("TRAIN MODEL convnet ON (t)");
        awaitEvents(display, 1);
        monitor.stop();
        String first = display.events.getFirst();
        assertTrue(first.startsWith("show:train convnet epoch 1/3"), first);
        assertTrue(first.contains("50/100  loss 0.5000  900 img/s  ETA 0:09"), first);
        assertEquals("clear", display.events.getLast());
      }
    }
  }

  @Test
  void noProgressTableMeansNoLine() throws Exception {
    RecordingDisplay display = new RecordingDisplay();
    String url = TestDatabase.newUrl();
    try (ProgressMonitor monitor = new ProgressMonitor(() -> DriverManager.getConnection(url), display)) {
      monitor.start("SELECT 1");
      Thread.sleep(3 * ProgressMonitor.POLL_INTERVAL.toMillis());
      monitor.stop();
    }
    assertEquals(List.of(), display.events);
  }

  private static void awaitEvents(RecordingDisplay display, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (display.events.size() < count && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(display.events.size() >= count, "no progress line within 10 s");
  }

  /** Keeps what the monitor drew, in order. */
  private static final class RecordingDisplay implements ProgressMonitor.Display {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void show(String line) {
      events.add("show:" + line);
    }

    @Override
    public void clear() {
      events.add("clear");
    }

    @Override
    public int width() {
      return 120;
    }
  }
}
