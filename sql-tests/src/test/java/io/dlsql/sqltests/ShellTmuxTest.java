package io.dlsql.sqltests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dlsql.shell.Main;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test of the interactive shell against the real engine, driven through
 * tmux the way a user's terminal drives it: Tab completes a model name, a TRAIN statement typed
 * over three lines runs on Fashion-MNIST, its progress bar moves, Ctrl-C cancels it, and the shell
 * then still answers queries and shows the model as it was. Skipped without tmux or without
 * Debian's Fashion-MNIST package.
 */
@Tag("tmux")
class ShellTmuxTest {
  /**
   * With {@link #LAYERS} on one kernel thread an epoch takes seconds (about 10 s on two busy cores,
   * a few on a fast machine), so the bar fills visibly between two captures instead of lapping.
   */
  private static final int IMAGES = 4096;
  private static final String TABLE = "shell_fashion";
  /** A name no keyword or table starts with, so its prefix completes to exactly this model. */
  private static final String MODEL = "shellnet_cnn";
  private static final String MODEL_PREFIX = "shellnet_";
  private static final String LAYERS = "(INPUT image TENSOR(1, 28, 28),"
      + " CONV2D(16, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),"
      + " CONV2D(32, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),"
      + " FLATTEN, DENSE(10)) OUTPUT label CLASSES 10";
  /**
   * The TRAIN statement as typed, one line per element. Far more epochs than the test waits for,
   * so only Ctrl-C can end it; one kernel thread keeps it gentle on a shared machine.
   */
  private static final List<String> TRAIN_LINES = List.of(
      "TRAIN MODEL " + MODEL,
      "  ON (SELECT image, label FROM " + TABLE + ")",
      "  WITH (epochs = 1000, batch_size = 32, threads = 1);");

  /** Prompts as tmux captures them: it drops trailing blanks, so the prompts' spaces are gone. */
  private static final String PROMPT = "dlsql>";
  private static final String CONTINUATION_PROMPT = "...>";
  /**
   * The shell's progress line during TRAIN, e.g. {@code training shellnet_cnn epoch 1/1000
   * [###.......] 12/128  loss 2.1034  900 img/s  ETA 3:10:00}; groups: epoch, bar, batch, batches.
   */
  private static final Pattern PROGRESS = Pattern.compile(
      "training " + MODEL + " epoch (\\d+)/\\d+\\s+(\\[[#.]+\\])\\s+(\\d+)/(\\d+)");

  /** A cold JVM loading Calcite, Arrow and the catalog on two shared cores. */
  private static final Duration STARTUP = Duration.ofSeconds(120);
  /** One step of the dialogue on a shared, slow machine. */
  private static final Duration STEP = Duration.ofSeconds(60);
  /** Loading the table and planning the network before the first batch is reported. */
  private static final Duration FIRST_BATCH = Duration.ofSeconds(120);
  /** Time between the two captures that must show the bar in different places. */
  private static final Duration BETWEEN_CAPTURES = Duration.ofMillis(1500);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration TMUX_COMMAND = Duration.ofSeconds(30);
  /** The pane is this wide, so the progress line has room for its bar. */
  private static final int COLUMNS = 200;
  private static final int ROWS = 50;
  /** Lines of scroll-back captured with the visible pane. */
  private static final int HISTORY_LINES = 500;
  /** A child's heap and GC threads: small, the machine is shared. */
  private static final List<String> SHELL_RESOURCE_FLAGS = List.of("-Xmx1g", "-XX:+UseSerialGC");

  private static final String SESSION = "shell";

  @TempDir Path temp;

  /** A private tmux server per test JVM, so the test never touches a user's sessions. */
  private final String socket = "dlsql-sqltests-" + ProcessHandle.current().pid();

  private Path exitStatusFile;

  @Test
  void completionMultiLineTrainProgressCancelAndQueryAfterwards() throws Exception {
    assumeTrue(tmuxAvailable(), "tmux is not installed");
    FashionMnist.assumeInstalled();
    Path data = temp.resolve("data");
    String url = "jdbc:dlsql:" + data;
    // Closed before the shell starts: the shell's JVM must take the data directory's lock.
    try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement()) {
      FashionMnist.createTable(statement, TABLE, IMAGES);
      statement.execute("CREATE MODEL " + MODEL + " " + LAYERS);
    }
    Path history = temp.resolve("history");
    Path launcher = temp.resolve("shell.sh");
    // The launcher records the shell's exit status itself: tmux 3.3 has no #{pane_dead_status}.
    exitStatusFile = temp.resolve("exit-status");
    Files.writeString(launcher, String.join(" ", shellCommand(data, history)) + "\necho $? > "
        + exitStatusFile + "\n");
    // The pane stays after the shell exits, so a crash leaves its output to report and \q its status.
    Path config = temp.resolve("tmux.conf");
    Files.writeString(config, "set-option -g remain-on-exit on\n");

    try {
      tmux("-f", config.toString(), "new-session", "-d", "-s", SESSION, "-x", Integer.toString(COLUMNS),
          "-y", Integer.toString(ROWS), "bash " + launcher);
      await(STARTUP, "the prompt", screen -> screen.contains(PROMPT));

      type("DESCRIBE MODEL " + MODEL_PREFIX);
      tmux("send-keys", "-t", SESSION, "Tab");
      await(STEP, "the completed model name", screen -> screen.contains("DESCRIBE MODEL " + MODEL));
      typeLine(";");
      String described = await(STEP, "the model's layers", screen -> screen.contains("(16, 28, 28)"));
      assertTrue(described.contains("CONV2D") && described.contains("DENSE"), described);

      for (String line : TRAIN_LINES) {
        typeLine(line);
      }
      String first = await(FIRST_BATCH, "the TRAIN progress bar", screen -> lastProgress(screen).isPresent());
      assertTrue(first.contains(CONTINUATION_PROMPT + " " + TRAIN_LINES.get(1)), first);
      assertTrue(first.contains(CONTINUATION_PROMPT + " " + TRAIN_LINES.get(2)), first);
      BarPosition start = lastProgress(first).orElseThrow();
      Thread.sleep(BETWEEN_CAPTURES.toMillis());
      String later = await(STEP, "the progress bar to move on from " + start,
          screen -> lastProgress(screen).filter(start::isBehind).isPresent());
      BarPosition moved = lastProgress(later).orElseThrow();
      assertNotEquals(start.bar(), moved.bar());
      assertEquals(start.batches(), moved.batches(), "batches per epoch stay the same: " + start + ", " + moved);

      tmux("send-keys", "-t", SESSION, "C-c");
      String cancelled = await(STEP, "'cancelled' and the prompt after it",
          screen -> screen.contains("cancelled") && after(screen, "cancelled").contains(PROMPT));
      String afterTrain = after(cancelled, TRAIN_LINES.get(2));
      assertFalse(afterTrain.contains("Error"), afterTrain);
      // The epoch table a finished TRAIN prints must not be there: Ctrl-C stopped it.
      assertFalse(afterTrain.contains("train_loss"), afterTrain);

      typeLine("SELECT COUNT(*) AS images FROM " + TABLE + ";");
      await(STEP, "the row count", screen -> Pattern.compile("\\|\\s*" + IMAGES + "\\s*\\|")
          .matcher(after(screen, "SELECT COUNT(*)")).find());

      typeLine("SELECT name, status, epochs_trained FROM sys.models;");
      await(STEP, "the model unchanged by the cancelled TRAIN", screen ->
          Pattern.compile("\\|\\s*" + MODEL + "\\s*\\|\\s*DEFINED\\s*\\|\\s*0\\s*\\|")
              .matcher(after(screen, "FROM sys.models")).find());

      typeLine("\\q");
      assertEquals(Main.EXIT_OK, awaitExitStatus(exitStatusFile), "exit status of the shell after \\q");
    } finally {
      tmux("kill-server");
    }

    assertTrue(Files.readString(history).contains(TRAIN_LINES.get(1).strip()),
        "the history file keeps the TRAIN statement");
    try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement()) {
      QueryRows model = QueryRows.query(statement,
          "SELECT status, epochs_trained FROM sys.models WHERE name = '" + MODEL + "'");
      assertEquals(List.of(List.of("DEFINED", 0L)), model.rows(), "the cancelled TRAIN left the model as it was");
    }
  }

  /** Where the progress bar stands: epoch, batch within it, and the bar as drawn. */
  private record BarPosition(int epoch, int batch, int batches, String bar) {
    /** Whether {@code later} is further on and its bar is drawn differently (cells filled). */
    boolean isBehind(BarPosition later) {
      boolean further = later.epoch > epoch || (later.epoch == epoch && later.batch > batch);
      return further && !later.bar.equals(bar);
    }
  }

  /** The progress line lowest on the screen (the live one), if any. */
  private static Optional<BarPosition> lastProgress(String screen) {
    Matcher m = PROGRESS.matcher(screen);
    BarPosition last = null;
    while (m.find()) {
      last = new BarPosition(
          Integer.parseInt(m.group(1)), Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), m.group(2));
    }
    return Optional.ofNullable(last);
  }

  /** What the screen shows after the last occurrence of {@code marker}; empty when it is absent. */
  private static String after(String screen, String marker) {
    int at = screen.lastIndexOf(marker);
    return at < 0 ? "" : screen.substring(at + marker.length());
  }

  /** The shell's JVM: this JVM's engine flags and class path, the engine on {@code data}. */
  private static List<String> shellCommand(Path data, Path history) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JvmProcess.engineFlags());
    command.addAll(SHELL_RESOURCE_FLAGS);
    command.add("-cp");
    command.add(String.join(File.pathSeparator, JvmProcess.testClassPath()));
    command.add(Main.class.getName());
    command.addAll(List.of("--data", data.toString(), "--history", history.toString()));
    return command.stream().map(ShellTmuxTest::shellQuote).toList();
  }

  private void typeLine(String text) throws Exception {
    type(text);
    tmux("send-keys", "-t", SESSION, "Enter");
  }

  private void type(String text) throws Exception {
    // tmux reads an argument that ends in ';' as a command separator unless it is escaped.
    String argument = text.endsWith(";") ? text.substring(0, text.length() - 1) + "\\;" : text;
    tmux("send-keys", "-t", SESSION, "-l", argument);
  }

  /** Polls the pane until {@code condition} holds; fails with the last capture otherwise. */
  private String await(Duration timeout, String what, Predicate<String> condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String screen = "";
    while (System.nanoTime() < deadline) {
      screen = capture();
      if (condition.test(screen)) {
        return screen;
      }
      Thread.sleep(POLL.toMillis());
    }
    throw new AssertionError("waited " + timeout + " for " + what + "; the screen:\n" + screen);
  }

  private String capture() throws Exception {
    return tmux("capture-pane", "-p", "-t", SESSION, "-S", Integer.toString(-HISTORY_LINES));
  }

  /** Waits for the shell to exit and returns the exit status its launcher wrote. */
  private int awaitExitStatus(Path statusFile) throws Exception {
    long deadline = System.nanoTime() + STEP.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(statusFile)) {
        String status = Files.readString(statusFile).strip();
        if (!status.isEmpty()) {
          return Integer.parseInt(status);
        }
      }
      Thread.sleep(POLL.toMillis());
    }
    throw new AssertionError("the shell did not exit after \\q; the screen:\n" + capture());
  }

  private String tmux(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("tmux", "-L", socket));
    command.addAll(List.of(args));
    CommandResult result = run(command);
    // kill-server fails when the server is already gone, which is the state it is asked for.
    if (!args[0].equals("kill-server")) {
      assertEquals(0, result.exitCode(), String.join(" ", command) + ": " + result.output());
    }
    return result.output();
  }

  private static boolean tmuxAvailable() {
    try {
      return run(List.of("tmux", "-V")).exitCode() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private record CommandResult(int exitCode, String output) {}

  private static CommandResult run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(TMUX_COMMAND.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish in " + TMUX_COMMAND);
    }
    return new CommandResult(process.exitValue(), output);
  }

  private static String shellQuote(String word) {
    return "'" + word.replace("'", "'\\''") + "'";
  }
}
