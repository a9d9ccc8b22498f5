package io.dlsql.sqltests;

import io.dlsql.executor.kernel.Gemm;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Java program running in a child JVM, started by a test: the dlsql server, a third-party
 * client, or a statement that the test kills. Owns the process and a copy of everything it prints
 * (standard output and error merged), which a test can wait on line by line.
 */
final class JvmProcess implements AutoCloseable {
  /**
   * JVM flags a child running dlsql's engine needs when this JVM was not started with them (an
   * IDE run): Vector API, FFM, Arrow's reflective access. Under Maven the flags come from this
   * JVM's own arguments instead, so the parent pom stays the one place that defines them.
   */
  private static final List<String> FALLBACK_ENGINE_FLAGS = List.of(
      "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED");
  /** Prefixes of this JVM's arguments that are engine flags worth passing on. */
  private static final List<String> ENGINE_FLAG_PREFIXES = List.of(
      "--add-modules", "--enable-native-access", "--add-opens", "--sun-misc-unsafe-memory-access");
  /**
   * Small heap and one GC thread: the children of a test share two cores and the data sets they
   * touch are a few hundred images.
   */
  private static final List<String> CHILD_RESOURCE_FLAGS = List.of("-Xmx1g", "-XX:+UseSerialGC");
  private static final Duration EXIT_AFTER_KILL = Duration.ofSeconds(30);

  private final Process process;
  private final String description;
  private final List<String> lines = new ArrayList<>();
  private final Thread reader;

  private JvmProcess(Process process, String description) {
    this.process = process;
    this.description = description;
    this.reader = Thread.ofPlatform().daemon().name("output of " + description).start(this::readOutput);
  }

  /** Starts {@code mainClass} with the engine's JVM flags and this test JVM's class path. */
  static JvmProcess startEngine(String mainClass, List<String> args) throws IOException {
    List<String> flags = new ArrayList<>(engineFlags());
    flags.addAll(CHILD_RESOURCE_FLAGS);
    // The child computes with the same kernel variant as this JVM (the suite also runs with the
    // Vector API switched off), so results a test compares across the two agree bit for bit.
    String variant = System.getProperty(Gemm.VARIANT_PROPERTY);
    if (variant != null) {
      flags.add("-D" + Gemm.VARIANT_PROPERTY + "=" + variant);
    }
    return start(flags, testClassPath(), mainClass, args);
  }

  /** Starts {@code mainClass} in a child JVM; its standard input is closed at once. */
  static JvmProcess start(List<String> jvmFlags, List<String> classPath, String mainClass, List<String> args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.add("-cp");
    command.add(String.join(File.pathSeparator, classPath));
    command.add(mainClass);
    command.addAll(args);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    // A child that reads standard input (sqlline does) sees its end instead of waiting for a user.
    process.getOutputStream().close();
    return new JvmProcess(process, mainClass + " " + String.join(" ", args));
  }

  /**
   * The engine flags this JVM runs with (surefire passes the parent pom's {@code dlsql.jvm.flags}),
   * or the minimal set when it runs without them.
   */
  static List<String> engineFlags() {
    List<String> flags = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(arg -> ENGINE_FLAG_PREFIXES.stream().anyMatch(arg::startsWith))
        .toList();
    return flags.isEmpty() ? FALLBACK_ENGINE_FLAGS : flags;
  }

  /** This JVM's class path: dlsql's modules, their libraries and the test classes. */
  static List<String> testClassPath() {
    return List.of(System.getProperty("java.class.path").split(File.pathSeparator));
  }

  /**
   * This JVM's class path without dlsql's own modules (their class folders and {@code dlsql-*}
   * jars): what a third-party client such as sqlline brings along, so it can only reach dlsql
   * through the Avatica wire protocol.
   */
  static List<String> thirdPartyClassPath() {
    return testClassPath().stream()
        .filter(entry -> !entry.isBlank())
        .filter(entry -> !new File(entry).isDirectory())
        .filter(entry -> !new File(entry).getName().startsWith("dlsql-"))
        .toList();
  }

  private void readOutput() {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        synchronized (lines) {
          lines.add(line);
          lines.notifyAll();
        }
      }
    } catch (IOException e) {
      // The process was killed while we read: its output ends here.
    } finally {
      synchronized (lines) {
        lines.notifyAll();
      }
    }
  }

  /**
   * Waits until a line of output matches {@code pattern} and returns the match; fails (with the
   * output so far) when the process exits first or the time runs out.
   */
  Matcher awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int next = 0;
    synchronized (lines) {
      while (true) {
        for (; next < lines.size(); next++) {
          Matcher m = pattern.matcher(lines.get(next));
          if (m.find()) {
            return m;
          }
        }
        long left = deadline - System.nanoTime();
        if (!reader.isAlive() || left <= 0) {
          throw new AssertionError((reader.isAlive() ? "timed out after " + timeout : "process ended")
              + " waiting for /" + pattern + "/ from " + description + "; its output:\n" + output());
        }
        lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
    }
  }

  /** Waits for the process to exit and returns its exit code; fails when it outlives the timeout. */
  int waitFor(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("still running after " + timeout + ": " + description + "; its output:\n" + output());
    }
    // The exit closes the pipe; let the reader copy what was left in it.
    reader.join(EXIT_AFTER_KILL.toMillis());
    return process.exitValue();
  }

  /** Everything the process printed so far. */
  String output() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }

  /** Kills the process the way a crash or {@code kill -9} would, and waits for it to be gone. */
  void killForcibly() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(EXIT_AFTER_KILL.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException("process did not die after SIGKILL: " + description);
    }
    reader.join(EXIT_AFTER_KILL.toMillis());
  }

  boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(EXIT_AFTER_KILL.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
