package io.dlsql.bench;

import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.optim.Sgd;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanBinding;
import io.dlsql.planner.cost.Analyzer;
import io.dlsql.planner.physical.PhysicalPlan;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * What the planner benchmarks share: a network bound to a physical plan with synthetic batches
 * ({@link Runner}), and the timing loop that steps several of them in rounds, the order rotated
 * each round so that load from other processes hits them alike, with medians over rounds.
 */
final class PlanRuns {
  /** Synthetic labels are drawn from this many classes (every benchmarked net has 10). */
  static final int CLASSES = 10;
  /** Momentum of the SGD steps: one state slot per parameter, as the plans assume. */
  static final double MOMENTUM = 0.9;
  /**
   * Input batch buffers a training runner holds: the trainer's loader fills the next batch while
   * the current one computes ({@code BatchLoader}), so training holds two, and the runner does
   * too, so measured peaks are what TRAIN holds.
   */
  static final int TRAINING_INPUT_BUFFERS = 2;

  /**
   * The clock every planner benchmark times on, from {@code -Dbench.clock=wall|cpu}: wall (the
   * default, what acceptance measures, at the pool's thread count) or the thread CPU clock at one
   * kernel thread (ANALYZE, layer times and steps alike), for development on a loaded machine.
   */
  static final Analyzer.Clock CLOCK =
      "cpu".equalsIgnoreCase(System.getProperty("bench.clock", "wall")) ? Analyzer.Clock.THREAD_CPU : Analyzer.Clock.WALL;

  private PlanRuns() {}

  /**
   * The planner benches' arguments {@code [count] [models] [modes] [analyze_batch]}: rounds or
   * measured batches, comma-separated models and modes, and the ANALYZE batch (0: the run's).
   */
  record Configurations(int count, List<String> models, List<Mode> modes, int analyzeBatch) {
    /** Batch of a training configuration (the trainer's default). */
    static final int TRAIN_BATCH = 128;
    /** Batch of an inference configuration. */
    static final int INFER_BATCH = 256;
    /** Warm-up batches before a configuration's plan is timed. */
    static final int WARMUP_BATCHES = 2;
    /** SGD learning rate of a configuration's training steps (synthetic data; only the time counts). */
    static final double LEARNING_RATE = 0.01;

    static int batch(Mode mode) {
      return mode == Mode.TRAIN ? TRAIN_BATCH : INFER_BATCH;
    }

    static Configurations parse(String[] args, int defaultCount) {
      int count = args.length > 0 ? Integer.parseInt(args[0]) : defaultCount;
      List<String> models = List.of((args.length > 1 ? args[1] : "convnet,resnet20,mobilenet").split(","));
      List<Mode> modes = Arrays.stream((args.length > 2 ? args[2] : "train,infer").split(","))
          .map(m -> m.equals("train") ? Mode.TRAIN : Mode.INFER)
          .toList();
      int analyzeBatch = args.length > 3 ? Integer.parseInt(args[3]) : 0;
      return new Configurations(count, models, modes, analyzeBatch);
    }
  }

  /** Sets the kernel threads the clock needs (one for the CPU clock) and says what the run uses. */
  static String configure() {
    if (CLOCK == Analyzer.Clock.THREAD_CPU) {
      Parallel.setThreads(1);
    }
    return String.format(java.util.Locale.ROOT, "%d threads, %s clock", Parallel.get().threads(),
        CLOCK == Analyzer.Clock.WALL ? "wall" : "thread CPU");
  }

  /**
   * A network bound to one plan ({@link PlanBinding}) with its optimizer and synthetic data: a
   * training step (forward, softmax cross-entropy, backward, SGD with momentum) or an inference
   * forward per {@link #run()}.
   */
  static final class Runner implements AutoCloseable {
    final Network net;
    final Mode mode;
    final double learningRate;
    final Sgd sgd = new Sgd(MOMENTUM, false, 0);
    final Tensor[] inputs;
    final Tensor grad;
    final int[] labels;
    final SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0);
    private Tensor current;

    /**
     * Builds the network (seed 1) and binds the plan.
     *
     * @throws IllegalStateException if the executor could not apply one of the plan's choices
     */
    Runner(NetworkSpec spec, Mode mode, int batch, PhysicalPlan plan, double learningRate) {
      this.mode = mode;
      this.learningRate = learningRate;
      net = Network.build(spec, 1);
      net.useThreadCpuClock(CLOCK == Analyzer.Clock.THREAD_CPU);
      List<String> left = PlanBinding.apply(plan, net);
      if (!left.isEmpty()) {
        net.close();
        throw new IllegalStateException("plan choices the executor did not apply: " + left);
      }
      int[] in = spec.inputShape();
      inputs = new Tensor[mode == Mode.TRAIN ? TRAINING_INPUT_BUFFERS : 1];
      for (int b = 0; b < inputs.length; b++) {
        inputs[b] = Tensor.zeros(batch, in[0], in[1], in[2]);
      }
      current = inputs[0];
      grad = Tensor.zeros(batch, spec.classes());
      labels = new int[batch];
    }

    /** Fresh synthetic images and labels for step {@code s} in the next input buffer, outside any timing. */
    void prepare(long s) {
      current = inputs[(int) (s % inputs.length)];
      Rng rng = Rng.derive(s, 7);
      for (long i = 0; i < current.numel(); i++) {
        current.setFlat(i, (float) rng.nextGaussian());
      }
      for (int i = 0; i < labels.length; i++) {
        labels[i] = rng.nextInt(CLASSES);
      }
      net.setStepSeed(s);
    }

    /** One training step or one forward pass over the prepared batch. */
    void run() {
      if (mode == Mode.INFER) {
        net.forward(current, false);
        return;
      }
      loss.forward(net.forward(current, true), labels, labels.length, grad);
      net.backward(grad);
      sgd.step(net.parameters(), learningRate);
    }

    /** {@link #prepare} then {@link #run}. */
    void step(long s) {
      prepare(s);
      run();
    }

    @Override
    public void close() {
      net.close();
      sgd.close();
      for (Tensor t : inputs) {
        t.close();
      }
      grad.close();
    }
  }

  /**
   * Times {@code runners} in rounds of one step each, the order rotated every round; runner
   * {@code i} takes part in the first {@code rounds[i]} rounds only (a strategy too slow to time
   * often). Steps are numbered from {@code firstStep} on. Returns milliseconds per runner and
   * round (0 where it sat out).
   */
  static double[][] rotate(List<Runner> runners, int[] rounds, long firstStep) {
    int most = Arrays.stream(rounds).max().orElse(0);
    double[][] out = new double[runners.size()][most];
    LongSupplier clock = CLOCK.source();
    for (int round = 0; round < most; round++) {
      for (int k = 0; k < runners.size(); k++) {
        // Rotate who goes first, so a burst of load does not always hit the same runner.
        int i = (k + round) % runners.size();
        if (round >= rounds[i]) {
          continue;
        }
        Runner r = runners.get(i);
        r.prepare(firstStep + round);
        long start = clock.getAsLong();
        r.run();
        out[i][round] = (clock.getAsLong() - start) / 1e6;
      }
    }
    return out;
  }

  /** The same number of rounds for every runner. */
  static int[] rounds(int count, int rounds) {
    int[] out = new int[count];
    Arrays.fill(out, rounds);
    return out;
  }

  /** Median of the first {@code n} values. */
  static double median(double[] values, int n) {
    double[] v = Arrays.copyOf(values, n);
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** The 1, 5 and 15 minute load averages, for the record of the conditions a run met. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
