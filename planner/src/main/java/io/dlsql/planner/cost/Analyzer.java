package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.layout.LayoutConversion;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.layer.Activation;
import io.dlsql.executor.layer.Add;
import io.dlsql.executor.layer.BatchNorm2d;
import io.dlsql.executor.layer.Concat;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Dense;
import io.dlsql.executor.layer.Dropout;
import io.dlsql.executor.layer.Flatten;
import io.dlsql.executor.layer.GlobalAvgPool;
import io.dlsql.executor.layer.InitScheme;
import io.dlsql.executor.layer.Layer;
import io.dlsql.executor.layer.Pool2d;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.planner.Mode;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.logical.Shapes;
import io.dlsql.planner.physical.TensorLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * What {@code ANALYZE MODEL m} runs: times the candidate implementations (algorithm x layout) of
 * every layer shape of a network on this machine, forward (and backward for training), and the
 * layout conversions between them, and returns the tuning records to store ({@link
 * TuningRecords#key}, {@link TuningRecords#conversionKey}: by shape, so every model with the same
 * layer reuses them). Each implementation runs as the executor runs it inside a network in that
 * layout: the layer alone on inputs and outputs already in the implementation's layouts, so a
 * measurement holds no conversion; conversions are records of their own, one per image shape and
 * ordered pair of layouts. Shapes that occur several times are measured once. Each measurement is
 * the median of {@link Settings#runs} runs after a warm-up long enough for the JIT to compile
 * the kernel, each run on operands evicted from the caches but for the one the node before just
 * wrote ({@link CacheFlush}), as inside a network.
 *
 * <p>Candidates the roofline puts more than {@link Settings#skipFactor} times behind the node's
 * best candidate are not timed (the planner keeps pricing them by the roofline, which already
 * ranks them last): on this machine that is direct convolution wherever a GEMM-based algorithm
 * applies (scalar loops at about a sixteenth of the GEMM rate, seconds per batch), and im2col on
 * depthwise layers (one-row GEMMs). {@link Analysis#skipped} lists each with its reason.
 */
public final class Analyzer {
  /**
   * Warm-up: at least {@link #MIN_WARMUP_RUNS} runs and {@link #WARMUP_NANOS}, then on until a run
   * is within {@link #STEADY_TOLERANCE} of the one before (compiled code is steady; code the JIT is
   * still compiling runs slower each time less), at most {@link #MAX_WARMUP_NANOS} or {@link
   * #MAX_WARMUP_RUNS} runs.
   */
  static final int MIN_WARMUP_RUNS = 2;
  static final long WARMUP_NANOS = 150_000_000L;
  static final double STEADY_TOLERANCE = 0.1;
  static final long MAX_WARMUP_NANOS = 3_000_000_000L;
  static final int MAX_WARMUP_RUNS = 50;
  /**
   * Kernels measured within this wall time of the start are measured again at the end and the
   * faster time kept: on a loaded machine the JIT's compiler threads lag, and a first kernel can
   * look steady while still interpreted (conv1 of the convnet measured 14x its later time).
   */
  static final long JIT_WINDOW_NANOS = 20_000_000_000L;
  /**
   * Kernels faster than this per run are measured again at the end as well (cheap): within the
   * warm-up's {@link #MAX_WARMUP_RUNS} runs such a kernel can look steady before C2 has compiled
   * it (training dropout of the convnet recorded 6x its time in the network).
   */
  static final long REMEASURE_BELOW_NANOS = 5_000_000L;
  /** Seed of the random weights and inputs: the values do not change the time, only NaNs would. */
  static final long SEED = 42;

  /**
   * What ANALYZE MODEL's options set.
   *
   * @param batch samples per timed run (records are per sample)
   * @param threads kernel threads the runs use (records are per thread count)
   * @param runs timed runs per measurement after the warm-up; the median is kept
   * @param skipFactor candidates whose roofline time is more than this many times the node's
   *     best roofline are not timed
   * @param clock what the runs are timed on (the thread CPU clock only at one thread)
   */
  public record Settings(int batch, int threads, int runs, double skipFactor, Clock clock) {
    /** ANALYZE MODEL's defaults: batch 64, 3 runs, skip beyond 5x, wall clock. */
    public static final int DEFAULT_BATCH = 64;
    public static final int DEFAULT_RUNS = 3;
    public static final double DEFAULT_SKIP_FACTOR = 5;

    public Settings {
      if (batch < 1 || threads < 1 || runs < 1 || !(skipFactor >= 1)) {
        throw new IllegalArgumentException("batch, threads and runs must be positive and the skip factor at least 1: "
            + batch + ", " + threads + ", " + runs + ", " + skipFactor);
      }
      if (clock == Clock.THREAD_CPU && threads != 1) {
        throw new IllegalArgumentException("the thread CPU clock sees one thread's work only; run at 1 thread, not "
            + threads);
      }
    }

    /** Wall-clock settings. */
    public Settings(int batch, int threads, int runs, double skipFactor) {
      this(batch, threads, runs, skipFactor, Clock.WALL);
    }

    /** The defaults at {@code threads} threads. */
    public static Settings defaults(int threads) {
      return new Settings(DEFAULT_BATCH, threads, DEFAULT_RUNS, DEFAULT_SKIP_FACTOR);
    }

    /** These settings with another batch size. */
    public Settings withBatch(int b) {
      return new Settings(b, threads, runs, skipFactor, clock);
    }

    /** These settings on another clock. */
    public Settings withClock(Clock c) {
      return new Settings(batch, threads, runs, skipFactor, c);
    }
  }

  /**
   * What a measurement reads: the wall clock (what a run takes, other processes' load included),
   * or the calling thread's CPU time (its own work only: steady on a loaded machine, meaningful at
   * one kernel thread, where every kernel runs on the calling thread).
   */
  public enum Clock {
    WALL,
    THREAD_CPU;

    /** The clock's reading in nanoseconds. */
    public LongSupplier source() {
      if (this == WALL) {
        return System::nanoTime;
      }
      ThreadMXBean bean = ManagementFactory.getThreadMXBean();
      return bean::getCurrentThreadCpuTime;
    }
  }

  /** A candidate left untimed and why. */
  public record Skipped(String node, String implementation, String reason) {}

  /**
   * What one analysis produced: the records to store, the candidates not timed, and how many
   * kernel and conversion measurements ran.
   */
  public record Analysis(Map<String, Map<String, String>> records, List<Skipped> skipped, int kernelsTimed,
      int conversionsTimed) {}

  private final KernelRegistry registry;
  private final TimeProvider roofline;

  /** An analyzer timing the implementations of {@code registry}, skipping by the roofline of {@code machine}. */
  public Analyzer(KernelRegistry registry, MachineProfile machine) {
    this.registry = registry;
    this.roofline = new TimeProvider(machine, TuningRecords.empty(), new FlopsProvider(), new BytesMovedProvider());
  }

  /** Tuning records for every layer shape of {@code spec}, its candidates and conversions. */
  public Analysis analyze(NetworkSpec spec, Mode mode, Settings settings) {
    LogicalPlan logical = LogicalPlan.of(spec);
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    List<Skipped> skipped = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    List<Runnable> early = new ArrayList<>();
    long started = System.nanoTime();
    int kernels = 0;
    int conversions = 0;
    int batch = settings.batch();
    int before = Parallel.get().threads();
    Parallel.setThreads(settings.threads());
    Direction fwd = mode == Mode.TRAIN ? Direction.FORWARD_TRAIN : Direction.FORWARD_INFER;
    try (CacheFlush cold = new CacheFlush()) {
      for (LogicalNode node : logical.nodes()) {
        List<Implementation> candidates = registry.candidates(node);
        double[] estimate = new double[candidates.size()];
        double best = Double.MAX_VALUE;
        for (int c = 0; c < estimate.length; c++) {
          estimate[c] = rooflineNanos(node, candidates.get(c), mode, settings);
          best = Math.min(best, estimate[c]);
        }
        for (int c = 0; c < estimate.length; c++) {
          Implementation impl = candidates.get(c);
          int t = effectiveThreads(impl, settings.threads(), batch);
          String fwdKey = TuningRecords.key(node, impl, fwd, t);
          if (!seen.add(fwdKey)) {
            continue; // the same shape under the same implementation: measured (or skipped) once
          }
          if (estimate[c] > settings.skipFactor() * best) {
            skipped.add(new Skipped(node.name(), impl.key(), String.format(Locale.ROOT,
                "roofline %.1fx the best candidate's (limit %.1fx)", estimate[c] / best, settings.skipFactor())));
            continue;
          }
          String bwdKey = TuningRecords.key(node, impl, Direction.BACKWARD, t);
          double[] took = new double[2];
          Runnable measurement = () -> {
            double[] nanos = measure(node, impl, batch, mode, settings, cold);
            took[0] = nanos[0];
            took[1] = nanos[1];
            keepFaster(out, fwdKey, nanos[0] / batch, batch);
            if (mode == Mode.TRAIN) {
              keepFaster(out, bwdKey, nanos[1] / batch, batch);
            }
          };
          measurement.run();
          kernels++;
          if (System.nanoTime() - started < JIT_WINDOW_NANOS || took[0] + took[1] < REMEASURE_BELOW_NANOS) {
            early.add(measurement);
          }
        }
        conversions += measureConversions(node, candidates, settings, out, cold);
      }
      // The JIT was still compiling while the first kernels ran, and may not have compiled the
      // quickest ones within their warm-up: measure them again, keep the faster.
      early.forEach(Runnable::run);
    } finally {
      Parallel.setThreads(before);
    }
    return new Analysis(out, skipped, kernels, conversions);
  }

  /** Stores a measurement, or keeps the stored one when it is faster. */
  private static void keepFaster(Map<String, Map<String, String>> out, String key, double nanosPerSample, int batch) {
    Map<String, String> old = out.get(key);
    if (old == null || Double.parseDouble(old.get(TuningRecords.NANOS_PER_SAMPLE)) > nanosPerSample) {
      out.put(key, TuningRecords.value(nanosPerSample, batch));
    }
  }

  /** Roofline nanoseconds of a step of {@code node} under {@code impl}: forward, and backward when training. */
  private double rooflineNanos(LogicalNode node, Implementation impl, Mode mode, Settings settings) {
    boolean grad = CostModel.inputNeedsGrad(node);
    double t = roofline.roofline(node, impl, settings.batch(), CostModel.forward(mode), grad, FusionRole.UNFUSED,
        settings.threads());
    if (mode == Mode.TRAIN) {
      t += roofline.roofline(node, impl, settings.batch(), Direction.BACKWARD, grad, FusionRole.UNFUSED,
          settings.threads());
    }
    return t;
  }

  /**
   * Times every conversion a plan could put before {@code node}: each image input, from every
   * layout the registry has into each layout a candidate of this node reads, and back (training
   * converts the gradient back). Returns how many ran.
   */
  private int measureConversions(LogicalNode node, List<Implementation> candidates, Settings settings,
      Map<String, Map<String, String>> out, CacheFlush cold) {
    Set<TensorLayout> reads = new TreeSet<>();
    for (Implementation impl : candidates) {
      reads.add(impl.inputLayout());
    }
    int count = 0;
    for (int[] shape : node.inputShapes()) {
      if (shape.length != 3) {
        continue;
      }
      for (TensorLayout to : reads) {
        for (TensorLayout from : registry.layouts()) {
          int t = Math.max(1, Math.min(settings.threads(), settings.batch()));
          for (TensorLayout[] pair : List.of(new TensorLayout[] {from, to}, new TensorLayout[] {to, from})) {
            String key = TuningRecords.conversionKey(shape, pair[0], pair[1], t);
            if (pair[0] == pair[1] || out.containsKey(key)) {
              continue;
            }
            double nanos = measureConversion(shape, pair[0], pair[1], settings, cold);
            out.put(key, TuningRecords.value(nanos / settings.batch(), settings.batch()));
            count++;
          }
        }
      }
    }
    return count;
  }

  /** Median nanoseconds of converting a batch of {@code shape} images from one layout into another. */
  private static double measureConversion(int[] shape, TensorLayout from, TensorLayout to, Settings settings,
      CacheFlush cold) {
    List<Tensor> owned = new ArrayList<>();
    int batch = settings.batch();
    try {
      Tensor src = random(batched(batch, shape), from.executorLayout(), owned, 0);
      Tensor dst = track(Tensor.zeros(to.executorLayout(), batched(batch, shape)), owned);
      // The source is what the layer before wrote just now.
      return timed(settings, () -> cold.evictAllBut(src.segment()), () -> LayoutConversion.convert(src, dst),
          () -> {}, () -> {})[0];
    } finally {
      owned.forEach(Tensor::close);
    }
  }

  /**
   * The input slot holding what the node before {@code node} in the network's order wrote (node
   * {@code i} writes tensor {@code i + 1}), else the first: a residual add's fresh operand is the
   * branch just computed, not the block input from several layers back.
   */
  private static int freshInput(LogicalNode node) {
    int slot = node.inputs().indexOf(node.index());
    return Math.max(0, slot);
  }

  /** The thread count the time provider looks measurements up under. */
  private static int effectiveThreads(Implementation impl, int threads, int batch) {
    return impl.cost().threaded() ? Math.max(1, Math.min(threads, batch)) : 1;
  }

  /**
   * Median forward and backward nanoseconds of {@code node} under {@code impl}, its image inputs,
   * output and gradients in the implementation's layouts (as a network running the node in that
   * layout hands them over, after any conversion).
   */
  private static double[] measure(LogicalNode node, Implementation impl, int batch, Mode mode, Settings settings,
      CacheFlush cold) {
    boolean training = mode == Mode.TRAIN;
    List<Tensor> owned = new ArrayList<>();
    Layer layer = createLayer(node);
    try {
      layer.initialize(InitScheme.DEFAULT, Rng.derive(SEED, node.index()));
      if (layer instanceof Conv2d conv && impl.executorAlgorithm() != null) {
        conv.setAlgorithm(Conv2d.Algorithm.valueOf(impl.executorAlgorithm()));
      }
      if (layer instanceof Dropout d) {
        d.setSeed(SEED);
      }
      Tensor[] inputs = new Tensor[node.inputs().size()];
      Tensor[] gradInputs = new Tensor[inputs.length];
      for (int slot = 0; slot < inputs.length; slot++) {
        int[] shape = node.inputShapes().get(slot);
        Layout layout = impl.inputLayoutFor(shape).executorLayout();
        inputs[slot] = random(batched(batch, shape), layout, owned, slot);
        if (slot > 0 || node.inputs().get(0) != 0) {
          gradInputs[slot] = track(Tensor.zeros(layout, batched(batch, shape)), owned);
        }
      }
      Layout outLayout = impl.outputLayoutFor(node.outputShape()).executorLayout();
      Tensor output = track(Tensor.zeros(outLayout, batched(batch, node.outputShape())), owned);
      Tensor gradOutput = training ? random(batched(batch, node.outputShape()), outLayout, owned, inputs.length) : null;
      // Inside a network the input the node before wrote is still in cache, and in backward the
      // output gradient its reader wrote; weights, other inputs and saved tensors are not.
      Tensor fresh = inputs[freshInput(node)];
      return timed(settings, () -> cold.evictAllBut(fresh.segment()), () -> layer.forward(inputs, output, training),
          () -> cold.evictAllBut(gradOutput == null ? null : gradOutput.segment()),
          training ? () -> layer.backward(inputs, output, gradOutput, gradInputs) : () -> {});
    } finally {
      layer.close();
      owned.forEach(Tensor::close);
    }
  }

  /**
   * Median nanoseconds of {@code first} and of {@code second} run after it, over {@code runs} runs
   * after a warm-up: Vector API code runs orders of magnitude slower before C2 compiles it (one
   * cold run measured a 16x too slow im2col). Before each timed call its preparation runs
   * outside the timing: the caches evicted but for the operand just written ({@link CacheFlush}),
   * as a layer inside a network finds them.
   */
  private static double[] timed(Settings settings, Runnable prepareFirst, Runnable first, Runnable prepareSecond,
      Runnable second) {
    LongSupplier clock = settings.clock().source();
    int runs = settings.runs();
    long warm = 0;
    long previous = -1;
    for (int run = 0; run < MAX_WARMUP_RUNS && warm < MAX_WARMUP_NANOS; run++) {
      long start = clock.getAsLong();
      first.run();
      second.run();
      long took = clock.getAsLong() - start;
      warm += took;
      boolean steady = previous > 0 && Math.abs(took - previous) <= STEADY_TOLERANCE * previous;
      if (run + 1 >= MIN_WARMUP_RUNS && warm >= WARMUP_NANOS && steady) {
        break;
      }
      previous = took;
    }
    long[] a = new long[runs];
    long[] b = new long[runs];
    for (int run = 0; run < runs; run++) {
      prepareFirst.run();
      long start = clock.getAsLong();
      first.run();
      a[run] = clock.getAsLong() - start;
      prepareSecond.run();
      start = clock.getAsLong();
      second.run();
      b[run] = clock.getAsLong() - start;
    }
    return new double[] {median(a), median(b)};
  }

  private static double median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static Tensor track(Tensor t, List<Tensor> owned) {
    owned.add(t);
    return t;
  }

  /** A tensor of uniform random values in {@code layout} (drawn in NCHW, then converted: padding stays zero). */
  private static Tensor random(int[] shape, Layout layout, List<Tensor> owned, int stream) {
    Tensor t = track(Tensor.zeros(shape), owned);
    Rng rng = Rng.derive(SEED, stream);
    for (long i = 0; i < t.numel(); i++) {
      t.setFlat(i, (float) rng.uniform(-1, 1));
    }
    if (layout == Layout.NCHW) {
      return t;
    }
    Tensor converted = track(Tensor.zeros(layout, shape), owned);
    LayoutConversion.convert(t, converted);
    return converted;
  }

  private static int[] batched(int batch, int[] sample) {
    int[] s = new int[sample.length + 1];
    s[0] = batch;
    System.arraycopy(sample, 0, s, 1, sample.length);
    return s;
  }

  /** The executor layer for one node, built the way {@code Network} builds it. */
  private static Layer createLayer(LogicalNode node) {
    int[] in = node.inputShapes().get(0);
    int[] out = node.outputShape();
    String name = node.name();
    return switch (node.spec()) {
      case LayerSpec.Conv2d c -> new Conv2d(name, node.geometry(), c.bias());
      case LayerSpec.BatchNorm b -> new BatchNorm2d(name, in, b.eps(), b.momentum());
      case LayerSpec.Activation a -> new Activation(name, in, a.kind(), a.slope());
      case LayerSpec.Pool p -> new Pool2d(name, in, out, p.max(), p.kernelH(), p.kernelW(), p.strideH(),
          p.strideW(), p.padH(), p.padW());
      case LayerSpec.GlobalAvgPool g -> new GlobalAvgPool(name, in);
      case LayerSpec.Dense d -> new Dense(name, Math.toIntExact(Shapes.numel(in)), d.units(), d.bias());
      case LayerSpec.Dropout d -> new Dropout(name, in, d.p());
      case LayerSpec.Flatten f -> new Flatten(name, Math.toIntExact(Shapes.numel(in)));
      case LayerSpec.Add a -> new Add(name, out);
      case LayerSpec.Concat c -> new Concat(name, node.inputShapes().toArray(int[][]::new), out);
    };
  }
}
