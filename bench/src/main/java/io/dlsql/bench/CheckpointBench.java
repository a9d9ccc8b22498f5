package io.dlsql.bench;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.tensor.MemoryTracker;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.Planner;
import io.dlsql.planner.PlannerSettings;
import io.dlsql.planner.checkpoint.CheckpointSchedule;
import io.dlsql.planner.cost.Calibration;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.physical.PhysicalPlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Training under a memory limit, end to end: a ResNet's no-checkpointing peak (measured by
 * {@link MemoryTracker}), the planner's schedule at a third of it and Chen's sqrt(n) at the same
 * limit, each run for real: measured peak against the limit and the planner's estimate, median
 * step time with and without checkpointing (steps taken in turn across the networks, {@link
 * PlanRuns#rotate}, so load from other processes hits them alike), and recomputed FLOPs and time.
 * Each network holds two input batches, as the trainer does.
 *
 * <p>Arguments: {@code [depth=56] [batch=128] [steps=20] [channels=3] [size=32] [fraction=3]}.
 */
public final class CheckpointBench {
  private static final int CLASSES = 10;
  private static final int WARMUP_STEPS = 2;
  private static final int PEAK_STEPS = 2;
  private static final double LEARNING_RATE = 0.05;
  private static final double MB = 1024.0 * 1024.0;

  private CheckpointBench() {}

  public static void main(String[] args) {
    int depth = arg(args, 0, 56);
    int batch = arg(args, 1, 128);
    int steps = arg(args, 2, 20);
    int channels = arg(args, 3, 3);
    int size = arg(args, 4, 32);
    int fraction = arg(args, 5, 3);
    NetworkSpec spec = Architectures.build("resnet", Map.of("depth", depth), new int[] {channels, size, size}, CLASSES);
    MachineProfile machine = Calibration.measure();
    System.out.printf(Locale.ROOT, "resnet-%d input %dx%dx%d batch %d, %d threads, %d nodes%n",
        depth, channels, size, size, batch, io.dlsql.executor.kernel.Parallel.get().threads(), spec.nodes().size());

    PhysicalPlan keepAll = plan(spec, batch, 0, "off", machine);
    Run none = measurePeak(spec, batch, keepAll, "no checkpointing");
    long limit = none.peak / fraction;
    System.out.printf(Locale.ROOT, "memory_limit = 1/%d of the measured no-checkpointing peak = %.1f MB%n", fraction, limit / MB);

    PhysicalPlan optimal = plan(spec, batch, limit, "optimal", machine);
    Run ours = measurePeak(spec, batch, optimal, "planner schedule");
    PhysicalPlan sqrt = null;
    try {
      sqrt = plan(spec, batch, limit, "sqrt", machine);
    } catch (UserException e) {
      System.out.println("sqrt(n) at this limit: " + e.getMessage());
    }
    PhysicalPlan sqrtAnyway = plan(spec, batch, 0, "sqrt", machine);
    Run sqrtRun = measurePeak(spec, batch, sqrtAnyway, "sqrt(n) schedule");

    report("planner schedule", optimal, ours, limit);
    report("sqrt(n) schedule", sqrtAnyway, sqrtRun, sqrt == null ? -1 : limit);
    System.out.printf(Locale.ROOT, "no checkpointing: measured peak %.1f MB, estimated %.1f MB (%+.1f%%)%n",
        none.peak / MB, keepAll.cost().peakBytes() / MB, 100.0 * (keepAll.cost().peakBytes() - none.peak) / none.peak);

    double[][] times = alternate(spec, batch, steps, List.of(keepAll, optimal, sqrtAnyway));
    double base = median(times[0]);
    double mine = median(times[1]);
    double chen = median(times[2]);
    System.out.printf(Locale.ROOT, "median step over %d steps, alternated: no checkpointing %.0f ms, planner %.0f ms (%+.1f%%), sqrt(n) %.0f ms (%+.1f%%)%n",
        steps, base, mine, 100 * (mine / base - 1), chen, 100 * (chen / base - 1));
    System.out.printf(Locale.ROOT, "recompute time per step (measured): planner %.0f ms, sqrt(n) %.0f ms%n",
        times[1][steps] , times[2][steps]);
  }

  private static int arg(String[] args, int i, int dflt) {
    return args.length > i ? Integer.parseInt(args[i]) : dflt;
  }

  private static PhysicalPlan plan(NetworkSpec spec, int batch, long limit, String checkpointing, MachineProfile machine) {
    PlanRequest request = PlanRequest.train(batch, limit, 0, Map.of(PlannerSettings.CHECKPOINTING, checkpointing));
    return Planner.forExecutor().plan(spec, request, machine, TuningRecords.empty());
  }

  private record Run(long peak) {}

  /** Peak bytes over a few steps after warm-up, everything the process holds for training counted. */
  private static Run measurePeak(NetworkSpec spec, int batch, PhysicalPlan plan, String what) {
    long before = MemoryTracker.liveBytes();
    try (PlanRuns.Runner t = new PlanRuns.Runner(spec, Mode.TRAIN, batch, plan, LEARNING_RATE)) {
      for (int s = 0; s < WARMUP_STEPS; s++) {
        t.step(s);
      }
      MemoryTracker.resetPeak();
      for (int s = 0; s < PEAK_STEPS; s++) {
        t.step(WARMUP_STEPS + s);
      }
      long peak = MemoryTracker.peakBytes() - before;
      System.out.printf(Locale.ROOT, "%s: %d segments recomputed, measured peak %.1f MB%n", what,
          t.net.recomputeSchedule().segments().size(), peak / MB);
      return new Run(peak);
    }
  }

  private static void report(String what, PhysicalPlan plan, Run run, long limit) {
    CheckpointSchedule s = plan.checkpoints();
    System.out.printf(Locale.ROOT,
        "%s: %d of %d stages recomputed, recompute %.2f GFLOP / %.0f ms estimated; peak estimated %.1f MB, measured %.1f MB (%+.1f%%)%s%n",
        what, s.recomputedStages(), s.segments().size() == 0 ? 0 : s.segments().get(s.segments().size() - 1).last() + 1,
        s.recomputeFlops() / 1e9, s.recomputeNanos() / 1e6, s.peakBytes() / MB, run.peak / MB,
        100.0 * (s.peakBytes() - run.peak) / run.peak,
        limit < 0 ? ", does not fit the limit" : limit == 0 ? "" : String.format(Locale.ROOT, ", limit %.1f MB: %s",
            limit / MB, run.peak <= limit ? "under" : "OVER"));
  }

  /**
   * Step times (ms) per plan, steps taken in turn across the plans ({@link PlanRuns#rotate}); last
   * entry: mean recompute ms.
   */
  private static double[][] alternate(NetworkSpec spec, int batch, int steps, List<PhysicalPlan> plans) {
    List<PlanRuns.Runner> runners = new ArrayList<>();
    try {
      for (PhysicalPlan p : plans) {
        runners.add(new PlanRuns.Runner(spec, Mode.TRAIN, batch, p, LEARNING_RATE));
      }
      for (int s = 0; s < WARMUP_STEPS; s++) {
        for (PlanRuns.Runner r : runners) {
          r.step(s);
        }
      }
      for (PlanRuns.Runner r : runners) {
        r.net.resetLayerTimes();
      }
      double[][] times = PlanRuns.rotate(runners, PlanRuns.rounds(runners.size(), steps), WARMUP_STEPS);
      double[][] out = new double[plans.size()][];
      for (int i = 0; i < runners.size(); i++) {
        out[i] = Arrays.copyOf(times[i], steps + 1);
        long recompute = 0;
        for (Network.LayerTime lt : runners.get(i).net.layerTimes()) {
          recompute += lt.recomputeNanos();
        }
        out[i][steps] = recompute / 1e6 / steps;
      }
      return out;
    } finally {
      runners.forEach(PlanRuns.Runner::close);
    }
  }

  private static double median(double[] withRecompute) {
    return PlanRuns.median(withRecompute, withRecompute.length - 1);
  }
}
