package io.dlsql.bench;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
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
import java.util.function.LongSupplier;

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
  /**
   * Warm-up of every strategy timed in rounds: at least {@link PlanRuns.Configurations#WARMUP_BATCHES}
   * batches, then on until a batch is within {@link #STEADY_TOLERANCE} of the one before, at most
   * {@link #MAX_WARMUP_BATCHES}: a fixed two batches left the first rounds after ANALYZE up to 30%
   * slower than later ones (thread CPU clock, MobileNet inference), and a strategy timed while the
   * JIT still compiles its kernels is timed unfairly.
   */
  private static final double STEADY_TOLERANCE = 0.1;
  private static final int MAX_WARMUP_BATCHES = 8;
  /** Layers of the plan listed under its table when they measured more than this times their estimate. */
  private static final double LAYER_OVER_ESTIMATE = 1.3;
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
    /** Warm-up batches it ran before the rounds. */
    int warmup;
    /** Its layers that measured over {@link #LAYER_OVER_ESTIMATE} times their estimate in the rounds. */
    String overEstimate = "";

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
    System.out.printf(Locale.ROOT, "  %-60s %10s %10s %6s %6s %10s %8s%n", "strategy", "est ms", "median ms", "warmup",
        "rounds", "images/s", "vs plan");
    for (Strategy s : strategies) {
      double rate = imagesPerSecond(s, batch);
      System.out.printf(Locale.ROOT, "  %-60s %10.1f %10.1f %6d %6s %10.0f %8.3f%n", s.label(), s.plan.cost().stepNanos() / 1e6,
          median(s), s.warmup, s.rounds + (s.timedBatch < batch ? "*" : ""), rate, rate / planRate);
    }
    System.out.printf(Locale.ROOT, "  every strategy timed alike: warmed up until two batches agree within %.0f%% (%d to %d"
        + " batches), then one batch per strategy per round, the order rotated each round%n", 100 * STEADY_TOLERANCE,
        PlanRuns.Configurations.WARMUP_BATCHES, MAX_WARMUP_BATCHES);
    if (strategies.stream().anyMatch(s -> s.timedBatch < batch)) {
      System.out.printf(Locale.ROOT, "  * estimated more than %.0fx the plan: timed once on %d of the %d images (JIT warm-up"
          + " included), scaled to the batch%n", SLOW_FACTOR, Math.max(1, batch / SLOW_BATCH_DIVISOR), batch);
    }
    System.out.println("  plan: " + describe(plan.plan));
    System.out.println("  plan layers over " + LAYER_OVER_ESTIMATE + "x their estimate (est/measured ms per batch):"
        + (plan.overEstimate.isEmpty() ? " none" : plan.overEstimate));
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
   * linear in the batch); it cannot be near the plan either way. The others are warmed up until
   * steady ({@link #warmUp}) and timed in {@code rounds} rounds; the plan's per-layer times over
   * the rounds are kept for {@link #overEstimate}.
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
      LongSupplier clock = PlanRuns.CLOCK.source();
      for (int i = 0; i < runners.size(); i++) {
        if (strategies.get(i).timedBatch == batch) {
          strategies.get(i).warmup = warmUp(runners.get(i), clock);
        }
      }
      runners.get(0).net.resetLayerTimes();
      double[][] ms = PlanRuns.rotate(runners, perStrategy, MAX_WARMUP_BATCHES);
      strategies.get(0).overEstimate = overEstimate(strategies.get(0).plan, runners.get(0).net, perStrategy[0]);
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

  /** Runs warm-up batches until two in a row agree (see {@link #STEADY_TOLERANCE}); returns how many ran. */
  private static int warmUp(PlanRuns.Runner runner, LongSupplier clock) {
    long previous = -1;
    for (int w = 0; w < MAX_WARMUP_BATCHES; w++) {
      runner.prepare(w);
      long start = clock.getAsLong();
      runner.run();
      long took = clock.getAsLong() - start;
      boolean steady = previous > 0 && Math.abs(took - previous) <= STEADY_TOLERANCE * previous;
      if (w + 1 >= PlanRuns.Configurations.WARMUP_BATCHES && steady) {
        return w + 1;
      }
      previous = took;
    }
    return MAX_WARMUP_BATCHES;
  }

  /**
   * The plan's layers whose measured time per batch over the rounds exceeds {@link
   * #LAYER_OVER_ESTIMATE} times their estimate (operator, fused ReLU and input conversions, as
   * EstimateBench counts them), worst first: where a plan that loses to a uniform strategy lost.
   */
  private static String overEstimate(PhysicalPlan plan, Network net, int rounds) {
    Map<String, Double> estimated = EstimateBench.estimatedPerLayer(plan);
    List<double[]> over = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Network.LayerTime t : net.layerTimes()) {
      Double est = estimated.get(t.node());
      double meas = (t.forwardNanos() + t.backwardNanos() + t.recomputeNanos()) / 1e6 / rounds;
      if (est != null && meas > LAYER_OVER_ESTIMATE * est) {
        over.add(new double[] {meas - est, est, meas, names.size()});
        names.add(t.node());
      }
    }
    over.sort((a, b) -> Double.compare(b[0], a[0]));
    StringBuilder b = new StringBuilder();
    for (double[] o : over) {
      b.append(String.format(Locale.ROOT, " %s %.2f/%.2f", names.get((int) o[3]), o[1], o[2]));
    }
    return b.toString();
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
