package io.dlsql.executor.graph;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.kernel.conv.ConvGeometry;
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
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.layer.Pool2d;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * An executable network: one {@link Layer} per node of a {@link NetworkSpec}, the activation and
 * gradient tensors of every node (allocated for the largest batch seen and reused), forward in
 * node order and backward in reverse. Where a node feeds several others, the first gradient to
 * arrive is written in place and later ones go to a scratch buffer and are added, in a fixed
 * order. Parameter and buffer names follow PyTorch's state dict ({@code <node>.weight}, {@code
 * <node>.bias}, {@code <node>.running_mean}, {@code <node>.running_var}).
 */
public final class Network implements AutoCloseable {
  private final NetworkSpec spec;
  private final long seed;
  private final Layer[] layers;
  /** Per node, per input slot: the index of the node it reads, or -1 for the network input. */
  private final int[][] sources;
  /** Per node, per input slot: whether its gradient goes to a scratch buffer and is then added. */
  private final boolean[][] viaScratch;
  private final int outputNode;
  private final int[][] shapes;

  private int capacity;
  private int batch = -1;
  private Tensor[] outputs = new Tensor[0];
  private Tensor[] outputViews = new Tensor[0];
  private Tensor[] grads;
  private Tensor[] gradViews;
  private Tensor[][] scratch;
  private Tensor[][] scratchViews;
  private Tensor input;
  private Tensor logitsView;
  private boolean forwardWasTraining;
  private long stepSeed;
  private long forwardCount;
  /** Per node, wall nanoseconds spent in forward and in backward since the last reset. */
  private final long[] forwardNanos;
  private final long[] backwardNanos;
  private boolean stepSeedSet;
  /** The clock {@link #layerTimes()} reads: wall time by default. */
  private LongSupplier clock = System::nanoTime;

  private Network(NetworkSpec spec, long seed, InitScheme init) {
    this.spec = spec;
    this.seed = seed;
    List<Node> nodes = spec.nodes();
    LinkedHashMap<String, int[]> shapeByName = spec.shapes();
    int count = nodes.size();
    layers = new Layer[count];
    forwardNanos = new long[count];
    backwardNanos = new long[count];
    sources = new int[count][];
    shapes = new int[count][];
    List<LayerSpec> specs = spec.layerSpecs();
    try {
      for (int i = 0; i < count; i++) {
        Node node = nodes.get(i);
        sources[i] = node.inputs().stream().mapToInt(spec::indexOf).toArray();
        int[][] in = node.inputs().stream().map(shapeByName::get).toArray(int[][]::new);
        shapes[i] = shapeByName.get(node.name());
        layers[i] = createLayer(node.name(), specs.get(i), in, shapes[i], LayerSpec.where(i + 1, node.op()));
        layers[i].initialize(init, Rng.derive(seed, i));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    outputNode = spec.indexOf(spec.outputName());
    // Gradient routing, decided once: walking backward, the loss is the first consumer of the
    // output node, and the first consumer of any other node writes its gradient in place.
    viaScratch = new boolean[count][];
    boolean[] reached = new boolean[count];
    reached[outputNode] = true;
    for (int i = count - 1; i >= 0; i--) {
      viaScratch[i] = new boolean[sources[i].length];
      for (int k = 0; k < sources[i].length; k++) {
        int j = sources[i][k];
        if (j >= 0) {
          viaScratch[i][k] = reached[j];
          reached[j] = true;
        }
      }
    }
  }

  /** Builds the network with PyTorch's default initialisation drawn from {@code seed}. */
  public static Network build(NetworkSpec spec, long seed) {
    return build(spec, seed, InitScheme.DEFAULT);
  }

  /** Builds the network with the given initialisation drawn from {@code seed}. */
  public static Network build(NetworkSpec spec, long seed, InitScheme init) {
    return new Network(spec, seed, init);
  }

  private static Layer createLayer(String name, LayerSpec ls, int[][] in, int[] out, String where) {
    return switch (ls) {
      case LayerSpec.Conv2d c -> {
        ConvGeometry g = c.geometry(in[0], where);
        yield new Conv2d(name, g, c.bias());
      }
      case LayerSpec.BatchNorm b -> new BatchNorm2d(name, in[0], b.eps(), b.momentum());
      case LayerSpec.Activation a -> new Activation(name, in[0], a.kind(), a.slope());
      case LayerSpec.Pool p -> new Pool2d(name, in[0], out, p.max(), p.kernelH(), p.kernelW(),
          p.strideH(), p.strideW(), p.padH(), p.padW());
      case LayerSpec.GlobalAvgPool g -> new GlobalAvgPool(name, in[0]);
      case LayerSpec.Dense d -> new Dense(name, Math.toIntExact(numel(in[0])), d.units(), d.bias());
      case LayerSpec.Dropout d -> new Dropout(name, in[0], d.p());
      case LayerSpec.Flatten f -> new Flatten(name, Math.toIntExact(numel(in[0])));
      case LayerSpec.Add a -> new Add(name, out);
      case LayerSpec.Concat c -> new Concat(name, in, out);
    };
  }

  private static long numel(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  public NetworkSpec spec() {
    return spec;
  }

  /** The seed the weights were initialised from. */
  public long seed() {
    return seed;
  }

  /** The layers in node order (for the planner to choose algorithms, and for tests). */
  public List<Layer> layers() {
    return Collections.unmodifiableList(Arrays.asList(layers));
  }

  /** Uses {@code algorithm} for every convolution. */
  public void setConvAlgorithm(Conv2d.Algorithm algorithm) {
    for (Layer l : layers) {
      if (l instanceof Conv2d c) {
        c.setAlgorithm(algorithm);
      }
    }
  }

  /** Seeds the dropout masks of the next forward; without it each forward draws a fresh seed. */
  public void setStepSeed(long stepSeed) {
    this.stepSeed = stepSeed;
    this.stepSeedSet = true;
  }

  private void ensureBatch(int n) {
    if (n > capacity) {
      closeActivations();
      capacity = n;
      outputs = new Tensor[layers.length];
      for (int i = 0; i < layers.length; i++) {
        outputs[i] = Tensor.zeros(batched(capacity, shapes[i]));
      }
      batch = -1;
    }
    if (n != batch) {
      batch = n;
      outputViews = new Tensor[layers.length];
      for (int i = 0; i < layers.length; i++) {
        outputViews[i] = outputs[i].slice(0, n);
      }
      logitsView = outputViews[outputNode].reshape(n, spec.classes());
      if (grads != null) {
        makeGradViews();
      }
    }
  }

  private static int[] batched(int n, int[] sample) {
    int[] s = new int[sample.length + 1];
    s[0] = n;
    System.arraycopy(sample, 0, s, 1, sample.length);
    return s;
  }

  private void ensureGradients() {
    if (grads != null) {
      return;
    }
    grads = new Tensor[layers.length];
    scratch = new Tensor[layers.length][];
    for (int i = 0; i < layers.length; i++) {
      grads[i] = Tensor.zeros(batched(capacity, shapes[i]));
      scratch[i] = new Tensor[sources[i].length];
      for (int k = 0; k < sources[i].length; k++) {
        if (viaScratch[i][k]) {
          scratch[i][k] = Tensor.zeros(batched(capacity, shapes[sources[i][k]]));
        }
      }
    }
    makeGradViews();
  }

  private void makeGradViews() {
    gradViews = new Tensor[layers.length];
    scratchViews = new Tensor[layers.length][];
    for (int i = 0; i < layers.length; i++) {
      gradViews[i] = grads[i].slice(0, batch);
      scratchViews[i] = new Tensor[sources[i].length];
      for (int k = 0; k < sources[i].length; k++) {
        if (scratch[i][k] != null) {
          scratchViews[i][k] = scratch[i][k].slice(0, batch);
        }
      }
    }
  }

  /**
   * Runs the network on x (N, C, H, W) and returns the logits (N, classes), a view owned by the
   * network that stays valid until the next forward. Training mode uses batch statistics and
   * dropout and keeps what backward needs.
   */
  public Tensor forward(Tensor x, boolean training) {
    int[] expect = spec.inputShape();
    int[] got = x.shape();
    if (got.length != expect.length + 1 || !Arrays.equals(Arrays.copyOfRange(got, 1, got.length), expect)) {
      throw new IllegalArgumentException(
          "input " + Arrays.toString(got) + " does not match (N, " + Arrays.toString(expect) + ")");
    }
    int n = x.dim(0);
    ensureBatch(n);
    input = x;
    forwardWasTraining = training;
    long seedNow = stepSeedSet ? stepSeed : Rng.mix(seed, forwardCount);
    forwardCount++;
    stepSeedSet = false;
    for (int i = 0; i < layers.length; i++) {
      if (layers[i] instanceof Dropout d) {
        d.setSeed(Rng.mix(seedNow, i));
      }
      long started = clock.getAsLong();
      layers[i].forward(inputsOf(i), outputViews[i], training);
      forwardNanos[i] += clock.getAsLong() - started;
    }
    return logitsView;
  }

  private Tensor[] inputsOf(int i) {
    Tensor[] in = new Tensor[sources[i].length];
    for (int k = 0; k < in.length; k++) {
      in[k] = sources[i][k] < 0 ? input : outputViews[sources[i][k]];
    }
    return in;
  }

  /**
   * Back-propagates {@code gradOutput} (N, classes), the gradient of the loss by the logits of
   * the latest forward, and overwrites every parameter's gradient.
   */
  public void backward(Tensor gradOutput) {
    if (input == null) {
      throw new IllegalStateException("backward before forward");
    }
    if (gradOutput.numel() != logitsView.numel()) {
      throw new IllegalArgumentException(
          "gradient " + gradOutput + " does not match the logits " + logitsView);
    }
    ensureGradients();
    gradViews[outputNode].copyFrom(gradOutput);
    boolean[] ready = new boolean[layers.length];
    ready[outputNode] = true;
    for (int i = layers.length - 1; i >= 0; i--) {
      if (!ready[i]) {
        continue;
      }
      Tensor[] gradIn = new Tensor[sources[i].length];
      for (int k = 0; k < gradIn.length; k++) {
        int j = sources[i][k];
        if (j >= 0) {
          gradIn[k] = viaScratch[i][k] ? scratchViews[i][k] : gradViews[j];
        }
      }
      long started = clock.getAsLong();
      layers[i].backward(inputsOf(i), outputViews[i], gradViews[i], gradIn);
      for (int k = 0; k < gradIn.length; k++) {
        int j = sources[i][k];
        if (j >= 0) {
          if (viaScratch[i][k]) {
            addInto(gradViews[j], scratchViews[i][k]);
          }
          ready[j] = true;
        }
      }
      backwardNanos[i] += clock.getAsLong() - started;
    }
  }

  /** Time spent per node since the last {@link #resetLayerTimes()}, for EXPLAIN ANALYZE and tuning. */
  public record LayerTime(String node, Op op, long forwardNanos, long backwardNanos) {}

  /** Wall time per node (forward, backward) accumulated since the last reset, in node order. */
  public List<LayerTime> layerTimes() {
    List<LayerTime> out = new ArrayList<>(layers.length);
    for (int i = 0; i < layers.length; i++) {
      out.add(new LayerTime(layers[i].name(), spec.nodes().get(i).op(), forwardNanos[i], backwardNanos[i]));
    }
    return out;
  }

  /**
   * Makes {@link #layerTimes()} count CPU time of the calling thread instead of wall time: with one
   * kernel thread that is the layer's own work, undisturbed by other processes on a loaded machine
   * (benchmarks use it; EXPLAIN ANALYZE keeps wall time).
   */
  public void useThreadCpuClock(boolean cpu) {
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    clock = cpu ? bean::getCurrentThreadCpuTime : System::nanoTime;
  }

  public void resetLayerTimes() {
    Arrays.fill(forwardNanos, 0);
    Arrays.fill(backwardNanos, 0);
  }

  private static void addInto(Tensor dst, Tensor src) {
    MemorySegment d = dst.segment();
    MemorySegment s = src.segment();
    for (long i = 0; i < dst.numel(); i++) {
      d.setAtIndex(F32, i, d.getAtIndex(F32, i) + s.getAtIndex(F32, i));
    }
  }

  /** Whether the latest forward ran in training mode. */
  public boolean lastForwardTraining() {
    return forwardWasTraining;
  }

  /** Trainable parameters in state-dict order. */
  public List<Parameter> parameters() {
    List<Parameter> out = new ArrayList<>();
    for (Layer l : layers) {
      out.addAll(l.parameters());
    }
    return out;
  }

  /** Every tensor saved with the model (parameters and buffers), by name, in state-dict order. */
  private LinkedHashMap<String, Tensor> stateTensors() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    for (Layer l : layers) {
      for (Parameter p : l.parameters()) {
        out.put(p.name(), p.value());
      }
      out.putAll(l.buffers());
    }
    return out;
  }

  /** A copy of every parameter and buffer, named and ordered as PyTorch's state dict. */
  public LinkedHashMap<String, float[]> stateDict() {
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    stateTensors().forEach((k, v) -> out.put(k, v.toFloatArray()));
    return out;
  }

  /** The shape of every state-dict entry: conv weight (out, in/groups, kh, kw), dense weight (out, in). */
  public LinkedHashMap<String, int[]> shapes() {
    LinkedHashMap<String, int[]> out = new LinkedHashMap<>();
    stateTensors().forEach((k, v) -> out.put(k, v.shape()));
    return out;
  }

  /** Replaces every parameter and buffer; the names and sizes must match this network exactly. */
  public void loadStateDict(Map<String, float[]> state) {
    LinkedHashMap<String, Tensor> mine = stateTensors();
    for (Map.Entry<String, Tensor> e : mine.entrySet()) {
      float[] v = state.get(e.getKey());
      if (v == null) {
        throw new UserException("the saved weights lack " + e.getKey());
      }
      if (v.length != e.getValue().numel()) {
        throw new UserException(
            "the saved " + e.getKey() + " has " + v.length + " values, the model needs "
                + e.getValue().numel() + " (shape " + Arrays.toString(e.getValue().shape()) + ")");
      }
    }
    for (String k : state.keySet()) {
      if (!mine.containsKey(k)) {
        throw new UserException("the saved weights hold " + k + ", which this model does not have");
      }
    }
    mine.forEach((k, t) -> t.copyFrom(state.get(k)));
  }

  /** Number of trainable values. */
  public long parameterCount() {
    long n = 0;
    for (Parameter p : parameters()) {
      n += p.value().numel();
    }
    return n;
  }

  /** Per-sample output shape of the named node (or of the input). */
  public int[] outputShape(String node) {
    int[] s = spec.shapes().get(node);
    if (s == null) {
      throw new UserException("the model has no layer named " + node);
    }
    return s;
  }

  /** Bytes of the activations a training forward keeps for backward: every node's output, and the input. */
  public long activationBytes(int batch) {
    long floats = numel(spec.inputShape());
    for (int[] s : shapes) {
      floats += numel(s);
    }
    return floats * Float.BYTES * batch;
  }

  private void closeActivations() {
    for (Tensor t : outputs) {
      if (t != null) {
        t.close();
      }
    }
    outputs = new Tensor[0];
    if (grads != null) {
      for (int i = 0; i < grads.length; i++) {
        grads[i].close();
        for (Tensor t : scratch[i]) {
          if (t != null) {
            t.close();
          }
        }
      }
      grads = null;
    }
  }

  /** Frees all weights, activations and workspaces. */
  @Override
  public void close() {
    closeActivations();
    for (Layer l : layers) {
      if (l != null) {
        l.close();
      }
    }
  }
}
