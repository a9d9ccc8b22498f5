package io.dlsql.bench;

import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.MemoryTracker;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.Planner;
import io.dlsql.planner.cost.Analyzer;
import io.dlsql.planner.cost.Calibration;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.PlanCost;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.physical.FusionGroup;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How well the planner's estimates hold after ANALYZE MODEL (issue 5, acceptance 2): for each of
 * convnet, ResNet-20 and the MobileNet-style net in training (batch 128) and inference (batch 256),
 * the tuning records ANALYZE MODEL would store are measured in-process, the planner's plan is
 * bound to a network and run as EXPLAIN ANALYZE runs it (warm-up batches, then measured batches;
 * per-layer wall time from {@link Network#layerTimes()}, peak from {@link MemoryTracker} above
 * what was live before the network was built), and each executed layer's estimate is put beside
 * its measured time.
 *
 * <p>A layer's estimate is what its measured time covers: its operator, the ReLU its kernel
 * computes (a fusion group's members count with the group's first), and the layout conversions of
 * its inputs (the executor converts inside the layer's timed call, and converts the gradient back
 * inside its backward). Prints per configuration a table and a line {@code estimates <config>
 * median-layer |est/measured - 1| <x> ... peak est/measured <y>}; the targets are 0.30 and
 * 0.15 (±30% and ±15%).
 *
 * <p>Arguments: {@code [batches=5] [models=convnet,resnet20,mobilenet] [modes=train,infer]
 * [analyze_batch]} (ANALYZE's batch; by default the batch the configuration runs at, as {@code
 * ANALYZE MODEL m WITH (batch_size = ...)} would be run before a TRAIN or PREDICT at that batch:
 * a dense layer's time per sample falls with the batch). {@code -Dbench.clock=cpu}: one thread,
 * thread CPU time ({@link PlanRuns#CLOCK}).
 */
public final class EstimateBench {
  private static final double LAYER_TARGET = 0.30;
  private static final double PEAK_TARGET = 0.15;
  private static final double MB = 1024.0 * 1024.0;

  private EstimateBench() {}

  public static void main(String[] args) {
    PlanRuns.Configurations configurations = PlanRuns.Configurations.parse(args, 5);
    int batches = configurations.count();
    String clock = PlanRuns.configure();
    System.out.printf(Locale.ROOT, "estimate bench: %s, %d measured batches, load average %s%n", clock, batches,
        PlanRuns.loadAverage());
    MachineProfile machine = Calibration.measure(PlanRuns.CLOCK);
    List<String> summary = new ArrayList<>();
    for (String model : configurations.models()) {
      for (Mode mode : configurations.modes()) {
        summary.add(run(model, mode, batches, configurations.analyzeBatch(), machine));
      }
    }
    System.out.printf(Locale.ROOT,
        "%nsummary (load average at the end %s; targets: median layer within %.0f%%, peak within %.0f%%)%n",
        PlanRuns.loadAverage(), 100 * LAYER_TARGET, 100 * PEAK_TARGET);
    summary.forEach(System.out::println);
  }

  private static String run(String model, Mode mode, int batches, int analyzeBatch, MachineProfile machine) {
    NetworkSpec spec = PlannerBench.spec(model);
    int batch = PlanRuns.Configurations.batch(mode);
    String config = model + "-" + (mode == Mode.TRAIN ? "train" : "infer");
    long analyzeStart = System.nanoTime();
    Analyzer.Analysis analysis = new Analyzer(KernelRegistry.executable(), machine)
        .analyze(spec, mode, Analyzer.Settings.defaults(Parallel.get().threads()).withBatch(analyzeBatch > 0 ? analyzeBatch : batch).withClock(PlanRuns.CLOCK));
    TuningRecords tuning = TuningRecords.of(analysis.records());
    System.out.printf(Locale.ROOT, "%n== %s, batch %d: ANALYZE (batch %d) %d records in %.1f s%n", config, batch,
        analyzeBatch > 0 ? analyzeBatch : batch, tuning.size(), (System.nanoTime() - analyzeStart) / 1e9);
    PlanRequest request = mode == Mode.TRAIN ? PlanRequest.train(batch, 0, 0, Map.of()) : PlanRequest.infer(batch, Map.of());
    PhysicalPlan plan = Planner.forExecutor().plan(spec, request, machine, tuning);
    Map<String, Double> estimated = estimatedPerLayer(plan);

    long baseline = MemoryTracker.liveBytes();
    Map<String, Double> measured = new LinkedHashMap<>();
    double[] stepMs;
    long peak;
    long built;
    long pool;
    try (PlanRuns.Runner runner = new PlanRuns.Runner(spec, mode, batch, plan, PlanRuns.Configurations.LEARNING_RATE)) {
      built = MemoryTracker.liveBytes() - baseline;
      for (int s = 0; s < PlanRuns.Configurations.WARMUP_BATCHES; s++) {
        runner.step(s);
      }
      runner.net.resetLayerTimes();
      MemoryTracker.resetPeak();
      double[][] ms = PlanRuns.rotate(List.of(runner), new int[] {batches}, PlanRuns.Configurations.WARMUP_BATCHES);
      stepMs = ms[0];
      peak = MemoryTracker.peakBytes() - baseline;
      pool = runner.net.activationPeakBytes();
      for (Network.LayerTime t : runner.net.layerTimes()) {
        measured.put(t.node(), (t.forwardNanos() + t.backwardNanos() + t.recomputeNanos()) / 1e6 / batches);
      }
    }

    System.out.printf(Locale.ROOT, "  %-28s %-10s %-20s %-12s %10s %10s %8s%n", "layer", "op", "implementation",
        "converts", "est ms", "meas ms", "est/meas");
    List<Double> deviations = new ArrayList<>();
    for (PlanNode.Operator op : plan.operators()) {
      String name = op.logical().name();
      Double est = estimated.get(name);
      double meas = measured.getOrDefault(name, 0.0);
      if (est == null || meas <= 0) {
        continue; // computed inside another layer's kernel
      }
      double ratio = est / meas;
      deviations.add(Math.abs(ratio - 1));
      StringBuilder converts = new StringBuilder();
      for (int in : op.inputs()) {
        if (plan.nodes().get(in) instanceof PlanNode.Conversion c) {
          converts.append(converts.isEmpty() ? "" : ",").append(c.from().sqlName()).append('>').append(c.to().sqlName());
        }
      }
      System.out.printf(Locale.ROOT, "  %-28s %-10s %-20s %-12s %10.3f %10.3f %8.3f%n", name, op.logical().op(),
          op.implementation().key(), converts.isEmpty() ? "-" : converts, est, meas, ratio);
    }
    double median = medianOf(deviations);
    double stepMedian = PlanRuns.median(stepMs, batches);
    long estimatedPeak = plan.cost().peakBytes();
    double peakRatio = (double) estimatedPeak / peak;
    System.out.printf(Locale.ROOT, "  step: estimated %.1f ms, measured median %.1f ms (%.3f)%n",
        plan.cost().stepNanos() / 1e6, stepMedian, plan.cost().stepNanos() / 1e6 / stepMedian);
    System.out.printf(Locale.ROOT, "  peak: estimated %.2f MB (persistent %.2f), measured %.2f MB (%.3f): built %.2f,"
        + " activation pool %.2f, the rest (optimizer state, workspaces, masks) %.2f%n", estimatedPeak / MB,
        plan.cost().persistentBytes() / MB, peak / MB, peakRatio, built / MB, pool / MB, (peak - built - pool) / MB);
    boolean pass = median <= LAYER_TARGET && Math.abs(peakRatio - 1) <= PEAK_TARGET;
    return String.format(Locale.ROOT,
        "estimates %s median-layer |est/measured - 1| %.3f (%d layers), step est/measured %.3f, peak est/measured %.3f"
            + " (%.1f / %.1f MB)%s",
        config, median, deviations.size(), plan.cost().stepNanos() / 1e6 / stepMedian, peakRatio, estimatedPeak / MB,
        peak / MB, pass ? "" : "  OUTSIDE TARGET");
  }

  /**
   * Estimated milliseconds per executor layer: each operator's forward, backward and recompute,
   * plus the layout conversions of its inputs, a fusion group's members added to its first.
   */
  static Map<String, Double> estimatedPerLayer(PhysicalPlan plan) {
    List<PlanCost.NodeCost> costs = plan.cost().nodes();
    Map<String, Double> out = new LinkedHashMap<>();
    for (PlanNode.Operator op : plan.operators()) {
      double nanos = costs.get(op.id()).totalNanos();
      for (int in : op.inputs()) {
        if (plan.nodes().get(in) instanceof PlanNode.Conversion) {
          nanos += costs.get(in).totalNanos();
        }
      }
      String layer = op.logical().name();
      if (op.fusionGroup() >= 0) {
        FusionGroup g = plan.fusionGroup(op.fusionGroup());
        layer = ((PlanNode.Operator) plan.nodes().get(g.members().get(0))).logical().name();
      }
      out.merge(layer, nanos / 1e6, Double::sum);
    }
    return out;
  }

  private static double medianOf(List<Double> values) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    return PlanRuns.median(v, v.length);
  }
}
