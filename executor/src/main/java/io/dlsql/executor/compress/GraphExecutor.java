package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import io.dlsql.executor.layer.Activation;
import io.dlsql.executor.layer.Add;
import io.dlsql.executor.layer.BatchNorm2d;
import io.dlsql.executor.layer.Concat;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Dense;
import io.dlsql.executor.layer.Dropout;
import io.dlsql.executor.layer.Flatten;
import io.dlsql.executor.layer.GlobalAvgPool;
import io.dlsql.executor.layer.Layer;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.layer.Pool2d;
import io.dlsql.executor.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Inference over a {@link NetworkSpec} node by node with fp32 activations between nodes, where
 * each node runs a {@link NodeKernel}: by default the executor's own layer with the given weights,
 * or a replacement a compressed model supplies (int8, sparse). Unlike {@link
 * io.dlsql.executor.graph.Network} it shows every node's output to an observer, which calibration
 * needs. Activations are allocated for the largest batch seen and reused.
 */
final class GraphExecutor implements AutoCloseable {

  /** Computes one node's output from its inputs' outputs, in evaluation mode. */
  interface NodeKernel extends AutoCloseable {
    void forward(Tensor[] inputs, Tensor output);

    @Override
    default void close() {}
  }

  /** Supplies a replacement kernel for a node, or null to run the executor's own layer. */
  @FunctionalInterface
  interface KernelFactory {
    NodeKernel create(int index, Node node, LayerSpec layer, int[][] inputShapes, int[] outputShape);
  }

  /** Sees the network input (index -1) and each node's output (batched) as it is computed. */
  @FunctionalInterface
  interface Observer {
    void observe(int index, Tensor output);
  }

  private final NetworkSpec spec;
  private final NodeKernel[] kernels;
  /** Nodes computed inside a fused chain's kernel: no kernel, no output of their own. */
  private final boolean[] skipped;
  private final int[][] sources;
  private final int[][] shapes;
  private final int outputNode;
  private int capacity;
  private Tensor[] outputs = new Tensor[0];
  /** Time per node since the last reset, on {@link #clock}: what a profile of a variant reads. */
  private final long[] nodeNanos;
  private LongSupplier clock = System::nanoTime;

  GraphExecutor(NetworkSpec spec, Map<String, float[]> weights, KernelFactory factory) {
    this(spec, weights, factory, Map.of());
  }

  /**
   * With fused chains: {@code fused} maps the index of a chain's last node to the indices of the
   * whole chain in order (a path whose inner outputs have no other reader). The factory is asked
   * for the last node's kernel with the shapes of what the chain reads from outside (the first
   * node's inputs, then the other inputs of later nodes, such as an ADD's residual); that kernel
   * computes the whole chain; the other nodes of the chain get no kernel and no output buffer.
   */
  GraphExecutor(NetworkSpec spec, Map<String, float[]> weights, KernelFactory factory, Map<Integer, int[]> fused) {
    this.spec = spec;
    List<Node> nodes = spec.nodes();
    List<LayerSpec> layers = spec.layerSpecs();
    LinkedHashMap<String, int[]> shapeByName = spec.shapes();
    kernels = new NodeKernel[nodes.size()];
    nodeNanos = new long[nodes.size()];
    sources = new int[nodes.size()][];
    shapes = new int[nodes.size()][];
    skipped = new boolean[nodes.size()];
    fused.forEach((last, chain) -> {
      for (int c = 0; c < chain.length - 1; c++) {
        skipped[chain[c]] = true;
      }
    });
    try {
      for (int i = 0; i < nodes.size(); i++) {
        Node node = nodes.get(i);
        shapes[i] = shapeByName.get(node.name());
        if (skipped[i]) {
          continue;
        }
        int[] chain = fused.get(i);
        List<String> reads = chain == null ? node.inputs() : chainInputs(nodes, chain);
        sources[i] = reads.stream().mapToInt(spec::indexOf).toArray();
        int[][] in = reads.stream().map(shapeByName::get).toArray(int[][]::new);
        NodeKernel k = factory == null ? null : factory.create(i, node, layers.get(i), in, shapes[i]);
        if (k == null && chain != null) {
          throw new IllegalStateException("no kernel computes the fused chain ending at " + node.name());
        }
        kernels[i] = k != null ? k : layerKernel(node, layers.get(i), in, shapes[i], weights, i + 1);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    outputNode = spec.indexOf(spec.outputName());
  }

  /**
   * What a fused chain's kernel reads: the first node's inputs, then each later node's inputs
   * other than its predecessor in the chain (the residual of an ADD), in chain order.
   */
  private static List<String> chainInputs(List<Node> nodes, int[] chain) {
    List<String> out = new ArrayList<>(nodes.get(chain[0]).inputs());
    for (int c = 1; c < chain.length; c++) {
      String previous = nodes.get(chain[c - 1]).name();
      for (String in : nodes.get(chain[c]).inputs()) {
        if (!in.equals(previous)) {
          out.add(in);
        }
      }
    }
    return out;
  }

  NetworkSpec spec() {
    return spec;
  }

  /** Runs x (N, C, H, W) and returns the logits (N, classes), a view valid until the next call. */
  Tensor forward(Tensor x, Observer observer) {
    int[] expect = spec.inputShape();
    if (x.rank() != expect.length + 1
        || !Arrays.equals(Arrays.copyOfRange(x.shape(), 1, x.rank()), expect)) {
      throw new IllegalArgumentException(
          "input " + Arrays.toString(x.shape()) + " does not match (N, " + Arrays.toString(expect) + ")");
    }
    int n = x.dim(0);
    ensureCapacity(n);
    if (observer != null) {
      observer.observe(-1, x);
    }
    Tensor[] views = new Tensor[kernels.length];
    for (int i = 0; i < kernels.length; i++) {
      if (skipped[i]) {
        continue;
      }
      Tensor[] in = new Tensor[sources[i].length];
      for (int k = 0; k < in.length; k++) {
        in[k] = sources[i][k] < 0 ? x : views[sources[i][k]];
      }
      views[i] = outputs[i].slice(0, n);
      long started = clock.getAsLong();
      kernels[i].forward(in, views[i]);
      nodeNanos[i] += clock.getAsLong() - started;
      if (observer != null) {
        observer.observe(i, views[i]);
      }
    }
    return views[outputNode].reshape(n, spec.classes());
  }

  /** Time per node (forward) accumulated since the last {@link #resetNodeTimes()}, in node order. */
  List<NodeTime> nodeTimes() {
    List<NodeTime> out = new ArrayList<>(kernels.length);
    for (int i = 0; i < kernels.length; i++) {
      Node node = spec.nodes().get(i);
      out.add(new NodeTime(node.name(), node.op(), nodeNanos[i]));
    }
    return out;
  }

  void resetNodeTimes() {
    Arrays.fill(nodeNanos, 0);
  }

  /**
   * Counts {@link #nodeTimes()} in CPU time of the calling thread instead of wall time: with one
   * kernel thread that is the node's own work, whatever else runs on the machine.
   */
  void useThreadCpuClock(boolean cpu) {
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    clock = cpu ? bean::getCurrentThreadCpuTime : System::nanoTime;
  }

  private void ensureCapacity(int n) {
    if (n <= capacity) {
      return;
    }
    closeOutputs();
    outputs = new Tensor[kernels.length];
    for (int i = 0; i < kernels.length; i++) {
      if (skipped[i]) {
        continue;
      }
      int[] s = new int[shapes[i].length + 1];
      s[0] = n;
      System.arraycopy(shapes[i], 0, s, 1, shapes[i].length);
      outputs[i] = Tensor.zeros(s);
    }
    capacity = n;
  }

  /** The executor's own layer for a node, with its parameters and buffers loaded from {@code weights}. */
  static NodeKernel layerKernel(
      Node node, LayerSpec ls, int[][] in, int[] out, Map<String, float[]> weights, int position) {
    Layer layer = createLayer(node.name(), ls, in, out, LayerSpec.where(position, node.op()));
    try {
      for (Parameter p : layer.parameters()) {
        load(p.name(), p.value(), weights);
      }
      layer.buffers().forEach((k, t) -> load(k, t, weights));
    } catch (RuntimeException e) {
      layer.close();
      throw e;
    }
    return new NodeKernel() {
      @Override
      public void forward(Tensor[] inputs, Tensor output) {
        layer.forward(inputs, output, false);
      }

      @Override
      public void close() {
        layer.close();
      }
    };
  }

  private static void load(String name, Tensor target, Map<String, float[]> weights) {
    float[] v = weights.get(name);
    if (v == null) {
      throw new UserException("the weights lack " + name);
    }
    if (v.length != target.numel()) {
      throw new UserException(
          "the weights hold " + v.length + " values for " + name + ", the layer needs " + target.numel());
    }
    target.copyFrom(v);
  }

  /** Same mapping from typed attributes to layers as {@link io.dlsql.executor.graph.Network}. */
  static Layer createLayer(String name, LayerSpec ls, int[][] in, int[] out, String where) {
    return switch (ls) {
      case LayerSpec.Conv2d c -> new Conv2d(name, c.geometry(in[0], where), c.bias());
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

  static long numel(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  private void closeOutputs() {
    for (Tensor t : outputs) {
      if (t != null) {
        t.close();
      }
    }
    outputs = new Tensor[0];
  }

  @Override
  public void close() {
    closeOutputs();
    for (NodeKernel k : kernels) {
      if (k != null) {
        k.close();
      }
    }
  }
}
