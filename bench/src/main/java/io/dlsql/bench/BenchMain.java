package io.dlsql.bench;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Entry point of {@code bench/target/benchmarks.jar}: JMH with its usual options, plus the
 * project's JVM flags (Vector API, FFM) appended to every forked JVM, and a closing table that
 * turns GEMM times into GFLOP/s.
 */
public final class BenchMain {
  private BenchMain() {}

  /** JMH options that only list or describe, handled by JMH's own main. */
  private static final Set<String> LISTING_OPTIONS = Set.of("-h", "-l", "-lp", "-lrf", "-lprof");

  public static void main(String[] args) throws RunnerException, IOException {
    if (Arrays.stream(args).anyMatch(LISTING_OPTIONS::contains)) {
      org.openjdk.jmh.Main.main(args);
      return;
    }
    CommandLineOptions cli;
    try {
      cli = new CommandLineOptions(args);
    } catch (CommandLineOptionException e) {
      System.err.println("bench: " + e.getMessage());
      System.exit(1);
      return;
    }
    Options options = new OptionsBuilder().parent(cli).jvmArgsAppend(jvmFlags()).build();
    Collection<RunResult> results = new Runner(options).run();
    printGflops(results);
    ConvTable.print(results);
  }

  /** The flags from the parent pom, filtered into jvm-flags.properties at build time. */
  static String[] jvmFlags() throws IOException {
    Properties p = new Properties();
    try (InputStream in = BenchMain.class.getResourceAsStream("/jvm-flags.properties")) {
      if (in == null) {
        throw new IllegalStateException("jvm-flags.properties missing from the benchmarks jar");
      }
      p.load(in);
    }
    String flags = p.getProperty("jvm.flags", "").trim();
    if (flags.isEmpty() || flags.contains("${")) {
      throw new IllegalStateException("jvm-flags.properties was not filtered: '" + flags + "'");
    }
    return flags.split("\\s+");
  }

  private static void printGflops(Collection<RunResult> results) {
    List<RunResult> gemm =
        results.stream().filter(r -> r.getParams().getParam("shape") != null).toList();
    if (gemm.isEmpty()) {
      return;
    }
    System.out.println();
    System.out.printf("%-22s %8s %10s %12s %10s%n", "shape (m x k x n)", "threads", "variant", "us/call", "GFLOP/s");
    for (RunResult r : gemm) {
      var primary = r.getPrimaryResult();
      String unit = primary.getScoreUnit();
      if (!unit.equals("us/op")) {
        System.out.println("(GFLOP/s needs -bm avgt -tu us; got " + unit + ")");
        return;
      }
      GemmShape s = GemmShape.parse(r.getParams().getParam("shape"));
      double micros = primary.getScore();
      System.out.printf(
          Locale.ROOT,
          "%-22s %8s %10s %12.1f %10.1f%n",
          r.getParams().getParam("shape"),
          r.getParams().getParam("threads"),
          r.getParams().getParam("variant"),
          micros,
          s.flops() / (micros * 1e-6) / 1e9);
    }
  }
}
