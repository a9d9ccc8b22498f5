package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives the real interactive shell in a tmux pane, the way a user's terminal does: the prompt,
 * a statement typed over three lines, Tab completion of a table name, the progress line and
 * Ctrl-C during a long statement, and leaving with {@code \q}. Skipped where tmux is missing.
 */
@Tag("tmux")
class TmuxShellTest {
  private static final Duration STARTUP = Duration.ofSeconds(90);
  private static final Duration STEP = Duration.ofSeconds(30);
  private static final String SESSION = "shell";

  @TempDir Path dir;
  private final String socket = "dlsql-test-" + ProcessHandle.current().pid();

  @AfterEach
  void killServer() throws Exception {
    if (tmuxAvailable()) {
      tmux("kill-server");
    }
  }

  @Test
  void promptMultiLineStatementCompletionProgressAndCancel() throws Exception {
    assumeTrue(tmuxAvailable(), "tmux is not installed");
    String url = "jdbc:h2:file:" + dir.resolve("db");
    try (Connection connection = DriverManager.getConnection(url);
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE fashion_train (id INT, label INT)");
      statement.execute("INSERT INTO fashion_train VALUES (1, 9), (2, 0), (3, 3)");
      statement.execute("CREATE SCHEMA sys");
      statement.execute(
          "CREATE TABLE sys.progress (statement_id BIGINT, statement VARCHAR(1000), phase VARCHAR(20),"
              + " model VARCHAR(100), epoch INT, epochs INT, batch INT, batches INT, loss DOUBLE,"
              + " images_per_sec DOUBLE, elapsed_s DOUBLE, eta_s DOUBLE)");
      statement.execute(
          "INSERT INTO sys.progress VALUES (1, 'TRAIN MODEL convnet', 'train', 'convnet', 1, 3, 40,"
              + " 100, 0.75, 800, 2, 5)");
    }
    Path history = dir.resolve("history");
    Path launcher = dir.resolve("shell.sh");
    Files.writeString(launcher, "exec " + String.join(" ", shellCommand(url, history)) + "\n");
    // AUTO_SERVER lets the shell's second connection (the progress poller) share the file.
    tmux("-f", "/dev/null", "new-session", "-d", "-s", SESSION, "-x", "200", "-y", "50", "bash " + launcher);

    // tmux drops trailing blanks from captured lines, so the prompt's space is not there.
    await(STARTUP, screen -> screen.contains(InteractiveShell.PROMPT.strip()));

    typeLine("SELECT id,");
    typeLine("  label");
    typeLine("FROM fashion_train ORDER BY id;");
    String result = await(STEP, screen -> screen.contains("3 rows"));
    assertTrue(result.contains(InteractiveShell.CONTINUATION_PROMPT + "  label"), result);
    assertTrue(result.contains("| ID | LABEL |"), result);
    assertTrue(result.contains("|  3 |     3 |"), result);

    type("SELECT COUNT(*) AS total FROM fash");
    tmux("send-keys", "-t", SESSION, "Tab");
    await(STEP, screen -> screen.contains("AS total FROM FASHION_TRAIN"));
    typeLine(";");
    await(STEP, screen -> screen.contains("| TOTAL |"));

    typeLine("SELECT SUM(X) FROM SYSTEM_RANGE(1, 100000000000);");
    await(STEP, screen -> screen.contains("train convnet epoch 1/3"));
    tmux("send-keys", "-t", SESSION, "C-c");
    String cancelled = await(STEP, screen -> screen.contains("cancelled"));
    assertTrue(!cancelled.contains("Error"), cancelled);
    typeLine("SELECT 'still here' AS alive;");
    await(STEP, screen -> screen.contains("| still here |"));

    typeLine("\\q");
    awaitExit();
    assertTrue(Files.readString(history).contains("FROM fashion_train ORDER BY id;"));
  }

  private List<String> shellCommand(String url, Path history) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      // The module and access flags the build applies to every JVM; nothing test-specific.
      if (argument.startsWith("--")) {
        command.add(argument);
      }
    }
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.add("--url");
    command.add(url + ";AUTO_SERVER=TRUE");
    command.add("--history");
    command.add(history.toString());
    return command.stream().map(TmuxShellTest::shellQuote).toList();
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

  private String await(Duration timeout, Predicate<String> condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String screen = "";
    while (System.nanoTime() < deadline) {
      screen = tmux("capture-pane", "-p", "-t", SESSION, "-S", "-200");
      if (condition.test(screen)) {
        return screen;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the screen did not show what was expected in " + timeout + ":\n" + screen);
  }

  private void awaitExit() throws Exception {
    long deadline = System.nanoTime() + STEP.toNanos();
    while (System.nanoTime() < deadline) {
      if (run("tmux", "-L", socket, "has-session", "-t", SESSION).exitCode() != 0) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the shell did not exit after \\q");
  }

  private String tmux(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("tmux", "-L", socket));
    command.addAll(List.of(args));
    Result result = run(command.toArray(String[]::new));
    if (!args[0].equals("kill-server")) {
      assertEquals(0, result.exitCode(), String.join(" ", command) + ": " + result.output());
    }
    return result.output();
  }

  private static boolean tmuxAvailable() {
    try {
      return run("tmux", "-V").exitCode() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  private record Result(int exitCode, String output) {}

  private static Result run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(STEP.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(String.join(" ", command) + " did not finish");
    }
    return new Result(process.exitValue(), output);
  }

  private static String shellQuote(String word) {
    return "'" + word.replace("'", "'\\''") + "'";
  }
}
