package io.dlsql.bench;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.Planner;
import io.dlsql.planner.PlannerSettings;
import io.dlsql.planner.cost.Analyzer;
import io.dlsql.planner.cost.Calibration;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.TensorLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The planner's plan against every uniform forced strategy, end to end: for each model (convnet,
 * ResNet-20, the MobileNet-style net on Fashion-MNIST shapes 1x28x28) and mode (training at batch
 * 128, inference at batch 256), the tuning records ANALYZE MODEL would store are measured first,
 * then the planner's plan and one plan per (conv_algorithm, layout) pair forced with {@code SET}
 * are bound to networks and timed in rounds, every network once per round in rotating order so
 * load from other processes hits them alike; images/s is the median over rounds.
 *
 * <p>A forced algorithm applies to the convolutions it can compute; the others keep the planner's
 * cheapest choice among their own candidates (the planner's rule for forced settings), and a
 * forced layout likewise applies to every operator with a kernel in it. Forced pairs that give the
 * same plan are timed once. Prints one {@code plan-vs-best <model>-<train|infer> <ratio>} line per
 * configuration: the plan's images/s over the best uniform strategy's (1.00 when the best uniform
 * strategy is the plan itself).
 *
 * <p>Arguments: {@code [rounds=7] [models=convnet,resnet20,mobilenet] [modes=train,infer]
 * [analyze_batch]} (ANALYZE's batch; by default the batch the configuration runs at, records being
 * per sample). {@code -Dbench.clock=cpu}: one thread, thread CPU time ({@link PlanRuns#CLOCK}).
 */
public final class PlannerBench {
  private static final int CLASSES = PlanRuns.CLASSES;
  private static final int[] INPUT = {1, 28, 28};
  /**
   * A forced strategy estimated more than this many times slower than the plan is timed once on
   * 1/{@link #SLOW_BATCH_DIVISOR} of the batch: forced direct convolution takes seconds to minutes
   * per batch, and timing it like the others would make the bench take most of an hour.
   */
  private static final double SLOW_FACTOR = 5;
  private static final int SLOW_BATCH_DIVISOR = 8;
  private static final String PLAN = "plan";
  /** The plan passes when it reaches this fraction of the best uniform strategy's images/s. */
  private static final double ACCEPT_RATIO = 0.95;

  private PlannerBench() {}

  public static void main(String[] args) {
    PlanRuns.Configurations configurations = PlanRuns.Configurations.parse(args, 7);
    int rounds = configurations.count();
    String clock = PlanRuns.configure();
    System.out.printf(Locale.ROOT, "planner bench: %s, %d rounds, load average %s%n", clock, rounds, loadAverage());
    MachineProfile machine = Calibration.measure(PlanRuns.CLOCK);
    List<String> summary = new ArrayList<>();
    for (String model : configurations.models()) {
      for (Mode mode : configurations.modes()) {
        summary.add(run(model, mode, rounds, configurations.analyzeBatch(), machine));
      }
    }
    System.out.printf(Locale.ROOT, "%nsummary (load average at the end %s; pass: ratio >= %.2f everywhere, > 1 somewhere)%n",
        loadAverage(), ACCEPT_RATIO);
    summary.forEach(System.out::println);
  }

  static NetworkSpec spec(String model) {
    return switch (model) {
      case "convnet" -> Architectures.build("convnet", Map.of(), INPUT, CLASSES);
      case "resnet20" -> Architectures.build("resnet", Map.of("depth", 20), INPUT, CLASSES);
      case "mobilenet" -> Architectures.build("mobilenet", Map.of(), INPUT, CLASSES);
      default -> throw new IllegalArgumentException("model must be convnet, resnet20 or mobilenet: " + model);
    };
  }

  /** One strategy: the plans it stands for (forced pairs giving the same plan share it). */
  private static final class Strategy {
    final List<String> names = new ArrayList<>();
    final PhysicalPlan plan;
    double[] msPerBatch;
    int rounds;
    /** Images per timed batch: the configuration's batch, or a fraction of it for slow strategies. */
    int timedBatch;

    Strategy(String name, PhysicalPlan plan) {
      names.add(name);
      this.plan = plan;
    }

    String label() {
      return String.join(" = ", names);
    }

    boolean uniform() {
      return names.stream().anyMatch(n -> !n.equals(PLAN));
    }
  }

  private static String run(String model, Mode mode, int rounds, int analyzeBatch, MachineProfile machine) {
    NetworkSpec spec = spec(model);
    int batch = PlanRuns.Configurations.batch(mode);
    String config = model + "-" + (mode == Mode.TRAIN ? "train" : "infer");
    long analyzeStart = System.nanoTime();
    Analyzer.Analysis analysis = new Analyzer(KernelRegistry.executable(), machine)
        .analyze(spec, mode, Analyzer.Settings.defaults(Parallel.get().threads()).withBatch(analyzeBatch > 0 ? analyzeBatch : batch).withClock(PlanRuns.CLOCK));
    TuningRecords tuning = TuningRecords.of(analysis.records());
    System.out.printf(Locale.ROOT, "%n== %s, batch %d: ANALYZE (batch %d) %d records in %.1f s%n", config, batch, analyzeBatch > 0 ? analyzeBatch : batch, tuning.size(),
        (System.nanoTime() - analyzeStart) / 1e9);

    Planner planner = Planner.forExecutor();
    Map<String, Strategy> bySignature = new LinkedHashMap<>();
    add(bySignature, PLAN, planner.plan(spec, request(mode, batch, Map.of()), machine, tuning));
    for (String algorithm : planner.registry().convAlgorithms()) {
      for (TensorLayout layout : planner.registry().layouts()) {
        Map<String, String> forced = Map.of(PlannerSettings.CONV_ALGORITHM, algorithm,
            PlannerSettings.LAYOUT, layout.sqlName());
        try {
          add(bySignature, algorithm + "/" + layout.sqlName(),
              planner.plan(spec, request(mode, batch, forced), machine, tuning));
        } catch (UserException e) {
          System.out.println("  " + algorithm + "/" + layout.sqlName() + ": " + e.getMessage());
        }
      }
    }
    List<Strategy> strategies = new ArrayList<>(bySignature.values());
    time(spec, mode, batch, strategies, rounds);

    Strategy plan = strategies.get(0);
    double planRate = imagesPerSecond(plan, batch);
    Strategy best = null;
    for (Strategy s : strategies) {
      if (s.uniform() && (best == null || imagesPerSecond(s, batch) > imagesPerSecond(best, batch))) {
        best = s;
      }
    }
    System.out.printf(Locale.ROOT, "  %-60s %10s %10s %6s %10s %8s%n", "strategy", "est ms", "median ms", "rounds",
        "images/s", "vs plan");
    for (Strategy s : strategies) {
      double rate = imagesPerSecond(s, batch);
      System.out.printf(Locale.ROOT, "  %-60s %10.1f %10.1f %6s %10.0f %8.3f%n", s.label(), s.plan.cost().stepNanos() / 1e6,
          median(s), s.rounds + (s.timedBatch < batch ? "*" : ""), rate, rate / planRate);
    }
    if (strategies.stream().anyMatch(s -> s.timedBatch < batch)) {
      System.out.printf(Locale.ROOT, "  * estimated more than %.0fx the plan: timed once on %d of the %d images (JIT warm-up"
          + " included), scaled to the batch%n", SLOW_FACTOR, Math.max(1, batch / SLOW_BATCH_DIVISOR), batch);
    }
    System.out.println("  plan: " + describe(plan.plan));
    double ratio = best == null ? 1 : planRate / imagesPerSecond(best, batch);
    return String.format(Locale.ROOT, "plan-vs-best %s %.3f (plan %.0f images/s, best uniform %s %.0f images/s)%s",
        config, ratio, planRate, best == null ? "-" : best.label(), best == null ? planRate : imagesPerSecond(best, batch),
        ratio >= ACCEPT_RATIO ? "" : "  BELOW " + ACCEPT_RATIO);
  }

  private static PlanRequest request(Mode mode, int batch, Map<String, String> settings) {
    return mode == Mode.TRAIN ? PlanRequest.train(batch, 0, 0, settings) : PlanRequest.infer(batch, settings);
  }

  private static void add(Map<String, Strategy> bySignature, String name, PhysicalPlan plan) {
    String signature = describe(plan);
    Strategy same = bySignature.get(signature);
    if (same != null) {
      same.names.add(name);
    } else {
      bySignature.put(signature, new Strategy(name, plan));
    }
  }

  /** The per-operator choices that the executor runs: implementation and layout, in node order. */
  private static String describe(PhysicalPlan plan) {
    StringBuilder b = new StringBuilder();
    for (PlanNode.Operator op : plan.operators()) {
      if (op.implementation().executorAlgorithm() != null || op.logical().outputShape().length == 3) {
        b.append(op.logical().name()).append('=').append(op.implementation().key()).append(' ');
      }
    }
    return b.toString().trim();
  }

  /**
   * Times the strategies ({@link PlanRuns#rotate}). A forced strategy whose estimated step is more
   * than {@link #SLOW_FACTOR} times the plan's (forced direct convolution: seconds per batch, a
   * minute in ResNet-20 training) is timed once, on a batch of 1/{@link #SLOW_BATCH_DIVISOR} of the
   * images, JIT warm-up included, and its time scaled to the whole batch (its kernels' time is
   * linear in the batch); it cannot be near the plan either way. The others get {@link
   * PlanRuns.Configurations#WARMUP_BATCHES} warm-up batches and {@code rounds} rounds.
   */
  private static void time(NetworkSpec spec, Mode mode, int batch, List<Strategy> strategies, int rounds) {
    List<PlanRuns.Runner> runners = new ArrayList<>();
    double planEstimate = strategies.get(0).plan.cost().stepNanos();
    int small = Math.max(1, batch / SLOW_BATCH_DIVISOR);
    try {
      int[] perStrategy = new int[strategies.size()];
      for (int i = 0; i < strategies.size(); i++) {
        Strategy s = strategies.get(i);
        boolean slow = i > 0 && s.plan.cost().stepNanos() > SLOW_FACTOR * planEstimate;
        s.timedBatch = slow ? small : batch;
        runners.add(new PlanRuns.Runner(spec, mode, s.timedBatch, s.plan, PlanRuns.Configurations.LEARNING_RATE));
        perStrategy[i] = slow ? 1 : rounds;
      }
      for (int w = 0; w < PlanRuns.Configurations.WARMUP_BATCHES; w++) {
        for (int i = 0; i < runners.size(); i++) {
          if (strategies.get(i).timedBatch == batch) {
            runners.get(i).step(w);
          }
        }
      }
      double[][] ms = PlanRuns.rotate(runners, perStrategy, PlanRuns.Configurations.WARMUP_BATCHES);
      for (int i = 0; i < runners.size(); i++) {
        Strategy s = strategies.get(i);
        s.rounds = perStrategy[i];
        s.msPerBatch = ms[i].clone();
        for (int r = 0; r < s.rounds; r++) {
          s.msPerBatch[r] *= (double) batch / s.timedBatch;
        }
      }
    } finally {
      runners.forEach(PlanRuns.Runner::close);
    }
  }

  private static double imagesPerSecond(Strategy s, int batch) {
    return batch / (median(s) / 1e3);
  }

  private static double median(Strategy s) {
    return PlanRuns.median(s.msPerBatch, s.rounds);
  }

  private static String loadAverage() {
    return PlanRuns.loadAverage();
  }
}
