package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
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
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.planner.Mode;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.logical.Shapes;
import io.dlsql.planner.physical.TensorLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code ANALYZE MODEL m} runs: times every executable candidate implementation of every
 * layer shape of a network on this machine, forward (and backward for training) at the given
 * batch size and thread count, and returns the tuning records to store ({@link
 * TuningRecords#key}: by shape, so every model with the same layer reuses them). Shapes that
 * occur several times are measured once. Each measurement is the median of a few runs after a
 * warm-up long enough for the JIT to compile the kernel.
 */
public final class Analyzer {
  /** Timed runs per measurement (after the warm-up); the median is kept. */
  static final int RUNS = 3;
  /** Warm-up: at least this many runs, then more until this much time was spent (bounded). */
  static final int MIN_WARMUP_RUNS = 1;
  static final long WARMUP_NANOS = 400_000_000L;
  static final int MAX_WARMUP_RUNS = 50;
  /** Seed of the random weights and inputs: the values do not change the time, only NaNs would. */
  static final long SEED = 42;

  private final KernelRegistry registry;

  /** An analyzer timing the implementations of {@code registry} the executor can run. */
  public Analyzer(KernelRegistry registry) {
    this.registry = registry;
  }

  /** Tuning records for every layer shape of {@code spec} and every implementation that applies. */
  public Map<String, Map<String, String>> analyze(NetworkSpec spec, Mode mode, int batch, int threads) {
    LogicalPlan logical = LogicalPlan.of(spec);
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    int before = Parallel.get().threads();
    Parallel.setThreads(threads);
    try {
      for (LogicalNode node : logical.nodes()) {
        for (Implementation impl : registry.candidates(node)) {
          if (!measurable(impl)) {
            continue;
          }
          Direction fwd = mode == Mode.TRAIN ? Direction.FORWARD_TRAIN : Direction.FORWARD_INFER;
          String fwdKey = TuningRecords.key(node, impl, fwd, effectiveThreads(impl, threads, batch));
          if (out.containsKey(fwdKey)) {
            continue;
          }
          double[] nanos = measure(node, impl, batch, mode);
          out.put(fwdKey, TuningRecords.value(nanos[0] / batch, batch));
          if (mode == Mode.TRAIN) {
            String bwdKey = TuningRecords.key(node, impl, Direction.BACKWARD, effectiveThreads(impl, threads, batch));
            out.put(bwdKey, TuningRecords.value(nanos[1] / batch, batch));
          }
        }
      }
    } finally {
      Parallel.setThreads(before);
    }
    return out;
  }

  /** The thread count the time provider looks measurements up under. */
  private static int effectiveThreads(Implementation impl, int threads, int batch) {
    return impl.cost().threaded() ? Math.max(1, Math.min(threads, batch)) : 1;
  }

  /** The executor runs NCHW tensors only; other layouts are measured once it has them. */
  private static boolean measurable(Implementation impl) {
    return impl.inputLayout() == TensorLayout.NCHW && impl.outputLayout() == TensorLayout.NCHW;
  }

  /** Median forward and backward nanoseconds of {@code node} under {@code impl}. */
  private static double[] measure(LogicalNode node, Implementation impl, int batch, Mode mode) {
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
        inputs[slot] = random(batched(batch, node.inputShapes().get(slot)), owned, slot);
        if (slot > 0 || node.inputs().get(0) != 0) {
          gradInputs[slot] = track(Tensor.zeros(batched(batch, node.inputShapes().get(slot))), owned);
        }
      }
      Tensor output = track(Tensor.zeros(batched(batch, node.outputShape())), owned);
      Tensor gradOutput = training ? random(batched(batch, node.outputShape()), owned, inputs.length) : null;
      // Warm up until the JIT has compiled the kernel: Vector API code runs orders of magnitude
      // slower before C2 intrinsifies it, and one cold run measured a 16x too slow im2col.
      long warm = 0;
      for (int run = 0; run < MIN_WARMUP_RUNS || (warm < WARMUP_NANOS && run < MAX_WARMUP_RUNS); run++) {
        long start = System.nanoTime();
        layer.forward(inputs, output, training);
        if (training) {
          layer.backward(inputs, output, gradOutput, gradInputs);
        }
        warm += System.nanoTime() - start;
      }
      long[] fwd = new long[RUNS];
      long[] bwd = new long[RUNS];
      for (int run = 0; run < RUNS; run++) {
        long start = System.nanoTime();
        layer.forward(inputs, output, training);
        long mid = System.nanoTime();
        if (training) {
          layer.backward(inputs, output, gradOutput, gradInputs);
        }
        long end = System.nanoTime();
        fwd[run] = mid - start;
        bwd[run] = end - mid;
      }
      return new double[] {median(fwd), median(bwd)};
    } finally {
      layer.close();
      owned.forEach(Tensor::close);
    }
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

  private static Tensor random(int[] shape, List<Tensor> owned, int stream) {
    Tensor t = track(Tensor.zeros(shape), owned);
    Rng rng = Rng.derive(SEED, stream);
    for (long i = 0; i < t.numel(); i++) {
      t.setFlat(i, (float) rng.uniform(-1, 1));
    }
    return t;
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
