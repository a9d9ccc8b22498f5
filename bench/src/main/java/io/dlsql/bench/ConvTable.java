package io.dlsql.bench;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;

/**
 * The closing table of {@link ConvLayoutBenchmark}: per layer shape, algorithm and layout, GFLOP/s
 * of the forward pass, of the input gradient (whole backward minus weight gradient) and of the
 * weight gradient, as Markdown rows for bench/README.md.
 */
final class ConvTable {
  private ConvTable() {}

  static void print(Collection<RunResult> results) {
    // key: conv|algorithm|layout -> method -> microseconds
    Map<String, Map<String, Double>> times = new LinkedHashMap<>();
    for (RunResult r : results) {
      String conv = r.getParams().getParam("conv");
      if (conv == null || !r.getPrimaryResult().getScoreUnit().equals("us/op")) {
        continue;
      }
      String key = conv + "|" + r.getParams().getParam("algorithm") + "|" + r.getParams().getParam("layout");
      String label = r.getPrimaryResult().getLabel();
      times.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(label, r.getPrimaryResult().getScore());
    }
    if (times.isEmpty()) {
      return;
    }
    System.out.println();
    System.out.println("| layer | shape | algorithm | layout | fwd GFLOP/s | bwd-data GFLOP/s | bwd-weights GFLOP/s |");
    System.out.println("|---|---|---|---|---:|---:|---:|");
    for (Map.Entry<String, Map<String, Double>> e : times.entrySet()) {
      String[] k = e.getKey().split("\\|");
      ConvLayerShape s = ConvLayerShape.parse(k[0]);
      double flops = s.flops(ConvLayoutBenchmark.BATCH);
      Double fwd = e.getValue().get("forward");
      Double weights = e.getValue().get("backwardWeights");
      Double all = e.getValue().get("backwardAll");
      Double data = all == null || weights == null ? null : all - weights;
      System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n", s.name(),
          k[0].substring(k[0].indexOf(':') + 1), k[1], k[2], rate(flops, fwd), rate(flops, data), rate(flops, weights));
    }
  }

  private static String rate(double flops, Double micros) {
    return micros == null || micros <= 0 ? "-" : String.format(Locale.ROOT, "%.1f", flops / (micros * 1e-6) / 1e9);
  }
}
