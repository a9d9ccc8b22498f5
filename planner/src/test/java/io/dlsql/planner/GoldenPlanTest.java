package io.dlsql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.explain.Explain;
import io.dlsql.planner.kernel.KernelRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden plan tests: each file under {@code src/test/resources/plans} holds a statement-like
 * header (the model, the request, the session's SET options, the kernel registry) above a line
 * {@code ----}, and below it the plan EXPLAIN renders on the nominal machine profile (or the
 * error). Run with {@code -Dplanner.regenerate=true} to rewrite the expected text after a
 * deliberate change, then review the diff.
 *
 * <p>Header lines: {@code model: <architecture> [param=value ...] input=CxHxW classes=N};
 * {@code request: train|infer batch=N [memory_limit=<bytes>] [epoch=<samples>]};
 * {@code set: key=value, ...}; {@code registry: executable|prospective}. Lines starting with
 * {@code #} are comments.
 */
class GoldenPlanTest {
  static final Path DIR = Path.of("src/test/resources/plans");
  static final String SEPARATOR = "----";
  static final boolean REGENERATE = Boolean.getBoolean("planner.regenerate");

  @TestFactory
  Stream<DynamicTest> plans() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(DIR)) {
      files = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
    }
    assertFalse(files.isEmpty(), "no golden plans in " + DIR.toAbsolutePath());
    return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> check(f)));
  }

  private static void check(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    int cut = text.indexOf("\n" + SEPARATOR + "\n");
    String header = cut < 0 ? text : text.substring(0, cut + 1);
    String expected = cut < 0 ? "" : text.substring(cut + SEPARATOR.length() + 2);
    String actual = run(header);
    if (REGENERATE) {
      Files.writeString(file, header + SEPARATOR + "\n" + actual, StandardCharsets.UTF_8);
      return;
    }
    assertEquals(expected, actual, "plan of " + file.getFileName() + " (regenerate with -Dplanner.regenerate=true)");
  }

  /** Plans the header's statement and renders the result (or the error). */
  static String run(String header) {
    Map<String, String> lines = new LinkedHashMap<>();
    for (String line : header.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      lines.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
    }
    try {
      NetworkSpec spec = model(lines.get("model"));
      PlanRequest request = request(lines.get("request"), settings(lines.getOrDefault("set", "")));
      KernelRegistry registry = "prospective".equals(lines.getOrDefault("registry", "executable"))
          ? KernelRegistry.prospective()
          : KernelRegistry.executable();
      var plan = new Planner(registry).plan(spec, request, MachineProfile.nominal(), TuningRecords.empty());
      return Explain.render(Explain.rows(plan), false);
    } catch (UserException e) {
      return "ERROR: " + e.getMessage() + "\n";
    }
  }

  static NetworkSpec model(String line) {
    String[] words = line.split("\\s+");
    Map<String, Object> params = new LinkedHashMap<>();
    int[] input = null;
    int classes = 0;
    for (int i = 1; i < words.length; i++) {
      String[] kv = words[i].split("=", 2);
      switch (kv[0]) {
        case "input" -> input = java.util.Arrays.stream(kv[1].split("x")).mapToInt(Integer::parseInt).toArray();
        case "classes" -> classes = Integer.parseInt(kv[1]);
        default -> params.put(kv[0], Integer.parseInt(kv[1]));
      }
    }
    return Architectures.build(words[0], params, input, classes);
  }

  static Map<String, String> settings(String line) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String part : line.split(",")) {
      if (!part.isBlank()) {
        String[] kv = part.split("=", 2);
        out.put(kv[0].trim(), kv[1].trim());
      }
    }
    return out;
  }

  static PlanRequest request(String line, Map<String, String> settings) {
    String[] words = line.split("\\s+");
    int batch = 0;
    long limit = 0;
    long epoch = 0;
    for (int i = 1; i < words.length; i++) {
      String[] kv = words[i].split("=", 2);
      switch (kv[0]) {
        case "batch" -> batch = Integer.parseInt(kv[1]);
        case "memory_limit" -> limit = Long.parseLong(kv[1]);
        case "epoch" -> epoch = Long.parseLong(kv[1]);
        default -> throw new IllegalArgumentException("unknown request option " + kv[0]);
      }
    }
    return switch (words[0].toLowerCase(Locale.ROOT)) {
      case "train" -> PlanRequest.train(batch, limit, epoch, settings);
      case "infer" -> PlanRequest.infer(batch, settings);
      default -> throw new IllegalArgumentException("request must be train or infer: " + line);
    };
  }
}
