package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.Dataset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network after int8 post-training static quantization: batchnorms folded into their
 * convolutions ({@link BatchNormFolding}), every convolution and dense layer with per-output-channel
 * symmetric int8 weights and a calibrated per-tensor int8 input scale, int32 accumulation and a
 * per-channel rescale; other operators (activations, pooling, ADD, leftover batchnorms) run in fp32
 * on the rescaled outputs. {@link #model()} is everything needed to rebuild it without the
 * calibration data ({@link #open}).
 */
public final class QuantizedNetwork implements InferenceModel {

  /** One quantized layer: int8 codes (out, in...) with a scale per output channel, its bias, its input scale. */
  public record Int8Layer(byte[] codes, float[] weightScales, float[] bias, float inputScale) {
    /** Bytes stored: codes, scales and bias (fp32), the input scale. */
    public long bytes() {
      return codes.length + (long) Float.BYTES * (weightScales.length + (bias == null ? 0 : bias.length) + 1);
    }
  }

  /**
   * The stored form: the folded spec, the int8 layers by node name, and the fp32 state of
   * everything else (leftover batchnorms) named as a state dict.
   */
  public record Int8Model(
      NetworkSpec foldedSpec, LinkedHashMap<String, Int8Layer> layers, LinkedHashMap<String, float[]> floatWeights) {
    /** Bytes of the model: int8 layers plus fp32 leftovers at 4 bytes a value. */
    public long bytes() {
      long b = 0;
      for (Int8Layer l : layers.values()) {
        b += l.bytes();
      }
      for (float[] v : floatWeights.values()) {
        b += (long) Float.BYTES * v.length;
      }
      return b;
    }

    /** Stored values: weights, biases, scales and leftover fp32 state. */
    public long parameterCount() {
      long n = 0;
      for (Int8Layer l : layers.values()) {
        n += l.codes().length + (l.bias() == null ? 0 : l.bias().length);
      }
      for (float[] v : floatWeights.values()) {
        n += v.length;
      }
      return n;
    }

    /** The stored form as an archive: {@code int8/<layer>/codes|weight_scales|bias|input_scale}, {@code fp32/<name>}. */
    public TensorArchive toArchive() {
      TensorArchive a = new TensorArchive().putMetadata("method", "int8");
      layers.forEach((name, l) -> {
        a.put("int8/" + name + "/codes", l.codes());
        a.put("int8/" + name + "/weight_scales", l.weightScales());
        if (l.bias() != null) {
          a.put("int8/" + name + "/bias", l.bias());
        }
        a.put("int8/" + name + "/input_scale", new float[] {l.inputScale()});
      });
      floatWeights.forEach((name, v) -> a.put("fp32/" + name, v));
      return a;
    }

    /** Reads {@link #toArchive()}'s form back; {@code spec} is the original (unfolded) spec. */
    public static Int8Model fromArchive(NetworkSpec spec, TensorArchive a) {
      if (!"int8".equals(a.metadata("method"))) {
        throw new UserException("the stored compressed model is " + a.metadata("method") + ", not int8");
      }
      NetworkSpec folded = BatchNormFolding.foldedSpec(spec);
      LinkedHashMap<String, Int8Layer> layers = new LinkedHashMap<>();
      for (Node n : folded.nodes()) {
        if (quantizable(n)) {
          String p = "int8/" + n.name() + "/";
          layers.put(n.name(), new Int8Layer(a.bytes(p + "codes"), a.floats(p + "weight_scales"),
              a.has(p + "bias") ? a.floats(p + "bias") : null, a.floats(p + "input_scale")[0]));
        }
      }
      LinkedHashMap<String, float[]> rest = new LinkedHashMap<>();
      a.entries().forEach((k, v) -> {
        if (k.startsWith("fp32/")) {
          rest.put(k.substring("fp32/".length()), (float[]) v);
        }
      });
      return new Int8Model(folded, layers, rest);
    }

    /** The fp32 state dict of the folded spec the int8 codes stand for (codes times scales). */
    public LinkedHashMap<String, float[]> dequantizedWeights() {
      LinkedHashMap<String, float[]> out = new LinkedHashMap<>(floatWeights);
      layers.forEach((name, l) -> {
        int rows = l.weightScales().length;
        out.put(name + ".weight",
            new Int8Quantizer.ChannelQuantized(l.codes(), l.weightScales(), rows, l.codes().length / rows).dequantize());
        if (l.bias() != null) {
          out.put(name + ".bias", l.bias().clone());
        }
      });
      return out;
    }
  }

  private final NetworkSpec spec;
  private final Int8Model model;
  private final GraphExecutor executor;
  private final List<Int8Conv2d> convs = new ArrayList<>();
  private final List<Int8Dense> denses = new ArrayList<>();
  /** The int8 kernels' descriptions by the index of the node (a chain's last) they compute. */
  private final Map<Integer, java.util.function.Supplier<String>> algorithms = new LinkedHashMap<>();

  /** Chains of nodes an int8 kernel computes in one pass, by the index of their last node. */
  private final Map<Integer, int[]> chains;

  private QuantizedNetwork(NetworkSpec spec, Int8Model model) {
    this(spec, model, true);
  }

  /** With {@code fuse} false every operator runs as its own node (tests compare the two). */
  QuantizedNetwork(NetworkSpec spec, Int8Model model, boolean fuse) {
    this.spec = spec;
    this.model = model;
    this.chains = fuse ? fusedChains(model.foldedSpec(), model.layers().keySet()) : Map.of();
    this.executor = new GraphExecutor(model.foldedSpec(), model.floatWeights(), this::kernel, chains);
  }

  /**
   * The epilogues the int8 kernels take over: an int8 convolution followed by a ReLU and/or a max
   * pooling, or by a residual ADD and a ReLU, an int8 dense layer followed by a ReLU, where each
   * intermediate output has no other
   * reader and is not the network's output. Each chain is computed by one kernel while the layer's
   * output is still in cache, instead of one pass over the whole batch per operator.
   */
  static Map<Integer, int[]> fusedChains(NetworkSpec f, java.util.Set<String> int8Layers) {
    List<Node> nodes = f.nodes();
    int[] readers = new int[nodes.size()];
    int[] onlyReader = new int[nodes.size()];
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : nodes.get(i).inputs()) {
        int j = f.indexOf(in);
        if (j >= 0) {
          readers[j]++;
          onlyReader[j] = i;
        }
      }
    }
    int output = f.indexOf(f.outputName());
    Map<Integer, int[]> chains = new LinkedHashMap<>();
    List<LayerSpec> layers = f.layerSpecs();
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      if (!int8Layers.contains(n.name()) || !quantizable(n)) {
        continue;
      }
      List<Integer> chain = new ArrayList<>(List.of(i));
      int last = i;
      if (n.op() == Op.CONV2D) {
        // A residual block's second convolution: conv -> ADD(conv, shortcut) [-> ReLU].
        int add = followedBy(last, readers, onlyReader, output, nodes, Op.ADD);
        if (add >= 0 && nodes.get(add).inputs().size() == 2
            && !nodes.get(add).inputs().get(0).equals(nodes.get(add).inputs().get(1))) {
          chain.add(add);
          last = add;
        }
      }
      int next = followedBy(last, readers, onlyReader, output, nodes, Op.RELU);
      if (next >= 0) {
        chain.add(next);
        last = next;
      }
      if (n.op() == Op.CONV2D && chain.size() == (next >= 0 ? 2 : 1)) {
        int pool = followedBy(last, readers, onlyReader, output, nodes, Op.MAXPOOL2D);
        if (pool >= 0 && layers.get(pool) instanceof LayerSpec.Pool p && p.max()) {
          chain.add(pool);
          last = pool;
        }
      }
      if (chain.size() > 1) {
        chains.put(last, chain.stream().mapToInt(Integer::intValue).toArray());
      }
    }
    return chains;
  }

  /** The only reader of node {@code i}'s output when it is an {@code op} node and i is not the output; else -1. */
  private static int followedBy(int i, int[] readers, int[] onlyReader, int output, List<Node> nodes, Op op) {
    if (i == output || readers[i] != 1 || nodes.get(onlyReader[i]).op() != op) {
      return -1;
    }
    return onlyReader[i];
  }

  /**
   * Folds batchnorms, calibrates activation ranges on all of {@code calibration} with the fp32
   * folded model, and quantizes. {@code weights} is the fp32 state dict of {@code spec}.
   *
   * @throws UserException when the calibration data is empty or has another image shape
   */
  public static QuantizedNetwork quantize(
      NetworkSpec spec, Map<String, float[]> weights, Dataset calibration, Calibration.Options options) {
    BatchNormFolding.Folded folded = BatchNormFolding.fold(spec, weights);
    NetworkSpec f = folded.spec();
    List<Node> nodes = f.nodes();
    boolean[] observed = new boolean[nodes.size() + 1];
    for (Node n : nodes) {
      if (quantizable(n)) {
        observed[f.indexOf(n.inputs().get(0)) + 1] = true;
      }
    }
    double[] ranges;
    try (GraphExecutor fp32 = new GraphExecutor(f, folded.weights(), null)) {
      ranges = Calibration.ranges(fp32, calibration, observed, options);
    }
    LinkedHashMap<String, Int8Layer> layers = new LinkedHashMap<>();
    LinkedHashMap<String, float[]> rest = new LinkedHashMap<>(folded.weights());
    LinkedHashMap<String, int[]> shapes = f.shapes();
    for (Node n : nodes) {
      if (!quantizable(n)) {
        continue;
      }
      float[] w = BatchNormFolding.require(rest, n.name() + ".weight");
      int rows = shapes.get(n.name())[0];
      Int8Quantizer.ChannelQuantized q = Int8Quantizer.perChannel(w, rows);
      float inputScale = Int8Quantizer.scaleFor(ranges[f.indexOf(n.inputs().get(0)) + 1]);
      layers.put(n.name(), new Int8Layer(q.codes(), q.scales(), rest.get(n.name() + ".bias"), inputScale));
      rest.remove(n.name() + ".weight");
      rest.remove(n.name() + ".bias");
    }
    return new QuantizedNetwork(spec, new Int8Model(f, layers, rest));
  }

  /** Rebuilds a quantized network from its stored form; {@code spec} is the original (unfolded) spec. */
  public static QuantizedNetwork open(NetworkSpec spec, Int8Model model) {
    if (!java.util.Arrays.equals(spec.inputShape(), model.foldedSpec().inputShape())
        || spec.classes() != model.foldedSpec().classes()) {
      throw new UserException("the stored int8 model does not match the model's input shape and classes");
    }
    return new QuantizedNetwork(spec, model);
  }

  private static boolean quantizable(Node n) {
    return n.op() == Op.CONV2D || n.op() == Op.DENSE;
  }

  private GraphExecutor.NodeKernel kernel(int index, Node last, LayerSpec lastSpec, int[][] in, int[] out) {
    int[] chain = chains.getOrDefault(index, new int[] {index});
    int first = chain[0];
    Node node = model.foldedSpec().nodes().get(first);
    LayerSpec ls = model.foldedSpec().layerSpecs().get(first);
    Int8Layer l = model.layers().get(node.name());
    if (l == null) {
      return null;
    }
    boolean relu = false;
    boolean residual = false;
    Int8Conv2d.MaxPool pool = null;
    for (int c = 1; c < chain.length; c++) {
      if (model.foldedSpec().nodes().get(chain[c]).op() == Op.ADD) {
        residual = true;
      } else if (model.foldedSpec().layerSpecs().get(chain[c]) instanceof LayerSpec.Pool p) {
        int[] pooled = model.foldedSpec().shapes().get(model.foldedSpec().nodes().get(chain[c]).name());
        pool = new Int8Conv2d.MaxPool(p.kernelH(), p.kernelW(), p.strideH(), p.strideW(), p.padH(), p.padW(),
            pooled[1], pooled[2]);
      } else {
        relu = true;
      }
    }
    int rows = l.weightScales().length;
    Int8Quantizer.ChannelQuantized q =
        new Int8Quantizer.ChannelQuantized(l.codes(), l.weightScales(), rows, l.codes().length / rows);
    if (ls instanceof LayerSpec.Conv2d c) {
      Int8Conv2d k = new Int8Conv2d(c.geometry(in[0], LayerSpec.where(first + 1, node.op())), q, l.bias(),
          l.inputScale(), new Int8Conv2d.Epilogue(residual, relu, pool));
      convs.add(k);
      algorithms.put(index, k::algorithm);
      return k;
    }
    Int8Dense k = new Int8Dense(Math.toIntExact(GraphExecutor.numel(in[0])), q, l.bias(), l.inputScale(), relu);
    denses.add(k);
    algorithms.put(index, k::algorithm);
    return k;
  }

  @Override
  public NetworkSpec spec() {
    return spec;
  }

  /** The stored form (folded spec, int8 layers, fp32 leftovers). */
  public Int8Model model() {
    return model;
  }

  /** The int8 layers by node name, in node order. */
  public Map<String, Int8Layer> layers() {
    return Collections.unmodifiableMap(model.layers());
  }

  /** Uses {@code variant} for every int8 GEMM (tests compare variants; benchmarks time them). */
  public void setGemmVariant(Int8Gemm.Variant variant) {
    convs.forEach(c -> c.setVariant(variant));
    denses.forEach(d -> d.setVariant(variant));
  }

  @Override
  public Tensor forward(Tensor x) {
    return executor.forward(x, null);
  }

  /**
   * One step of what {@link #forward} runs, in order: a node, or a fused chain named by its first
   * node, with its operator, the chain's node names joined by {@code +} (empty when not fused), the
   * precision of its arithmetic and the kernel that computes it.
   */
  public record Step(String operator, String name, String fusion, String precision, String algorithm) {}

  /** The steps {@link #forward} runs, in order (what EXPLAIN shows for an int8 model). */
  public List<Step> steps() {
    List<Node> nodes = model.foldedSpec().nodes();
    java.util.Set<Integer> inner = new java.util.HashSet<>();
    chains.values().forEach(c -> {
      for (int i = 0; i < c.length - 1; i++) {
        inner.add(c[i]);
      }
    });
    List<Step> out = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (inner.contains(i)) {
        continue;
      }
      Node last = nodes.get(i);
      int[] chain = chains.get(i);
      String fusion = chain == null ? ""
          : String.join("+", java.util.Arrays.stream(chain).mapToObj(c -> nodes.get(c).name()).toList());
      Node first = chain == null ? last : nodes.get(chain[0]);
      java.util.function.Supplier<String> algorithm = algorithms.get(i);
      out.add(new Step(first.op().specName(), first.name(), fusion, algorithm == null ? "fp32" : "int8",
          algorithm == null ? "fp32 " + last.op().specName() : algorithm.get()));
    }
    return out;
  }

  /**
   * The chains of nodes each computed by one int8 kernel (convolution with its ReLU, pooling or
   * residual ADD; dense with its ReLU), as node names in order; {@link #nodeTimes()} counts a
   * chain's time at its last node.
   */
  public List<List<String>> fusedChains() {
    List<Node> nodes = model.foldedSpec().nodes();
    return chains.values().stream()
        .map(c -> java.util.Arrays.stream(c).mapToObj(i -> nodes.get(i).name()).toList())
        .toList();
  }

  /** Forward time per node since the last {@link #resetNodeTimes()}, in node order of the folded spec. */
  public List<NodeTime> nodeTimes() {
    return executor.nodeTimes();
  }

  public void resetNodeTimes() {
    executor.resetNodeTimes();
  }

  /** Counts {@link #nodeTimes()} in CPU time of the calling thread (benchmarks at one thread) instead of wall time. */
  public void useThreadCpuClock(boolean cpu) {
    executor.useThreadCpuClock(cpu);
  }

  /** Bytes of the stored model. */
  public long bytes() {
    return model.bytes();
  }

  /** Size accounting of the stored model (the payload of {@link Int8Model#toArchive()}). */
  public ModelSize size() {
    return new ModelSize("int8", model.parameterCount(), model.bytes());
  }

  @Override
  public void close() {
    executor.close();
  }
}
