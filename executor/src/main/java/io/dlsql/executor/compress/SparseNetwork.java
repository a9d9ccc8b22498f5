package io.dlsql.executor.compress;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Inference for an unstructured-pruned model: the chosen convolution and dense layers run CSR
 * kernels ({@link SparseConv2d}, {@link SparseDense}), the others the executor's dense layers on
 * the same (zero-filled) weights. {@link #measure} times both kernels of every prunable layer on
 * this machine, and {@link #fasterSparse} keeps the layers where sparse measured faster, which is
 * the choice a planner makes. Storage is CSR for every weight where that is smaller than dense.
 */
public final class SparseNetwork implements InferenceModel {

  /** One layer's measurement: its weight density and the time of a forward with each kernel. */
  public record LayerTiming(String node, double density, double denseMillis, double sparseMillis) {
    public boolean sparseFaster() {
      return sparseMillis < denseMillis;
    }
  }

  private final NetworkSpec spec;
  private final Set<String> sparseNodes;
  private final GraphExecutor executor;

  private SparseNetwork(NetworkSpec spec, Map<String, float[]> state, Set<String> sparseNodes) {
    this.spec = spec;
    this.sparseNodes = Collections.unmodifiableSet(new LinkedHashSet<>(sparseNodes));
    this.executor = new GraphExecutor(spec, state, (index, node, ls, in, out) ->
        sparseNodes.contains(node.name()) ? sparseKernel(node, ls, in, state, index + 1) : null);
  }

  /** Runs {@code sparseNodes} (convolution or dense node names) with CSR kernels, the rest dense. */
  public static SparseNetwork open(NetworkSpec spec, Map<String, float[]> state, Set<String> sparseNodes) {
    for (String name : sparseNodes) {
      Node n = spec.nodes().get(spec.indexOf(name));
      if (!canRunSparse(spec, n)) {
        throw new IllegalArgumentException(name + " cannot run a sparse kernel");
      }
    }
    return new SparseNetwork(spec, state, sparseNodes);
  }

  /** Whether a node has a sparse kernel: dense layers and ungrouped convolutions. */
  public static boolean canRunSparse(NetworkSpec spec, Node n) {
    if (n.op() == Op.DENSE) {
      return true;
    }
    if (n.op() != Op.CONV2D) {
      return false;
    }
    LayerSpec.Conv2d c = (LayerSpec.Conv2d) LayerSpec.parse(n, spec.indexOf(n.name()) + 1);
    return c.groups() == 1;
  }

  static GraphExecutor.NodeKernel sparseKernel(Node node, LayerSpec ls, int[][] in, Map<String, float[]> state,
      int position) {
    float[] w = BatchNormFolding.require(state, node.name() + ".weight");
    float[] bias = state.get(node.name() + ".bias");
    if (ls instanceof LayerSpec.Conv2d c) {
      ConvGeometry g = c.geometry(in[0], LayerSpec.where(position, node.op()));
      return new SparseConv2d(g, CsrMatrix.fromDense(w, g.outChannels(), g.colRows()), bias);
    }
    int features = Math.toIntExact(GraphExecutor.numel(in[0]));
    return new SparseDense(features, CsrMatrix.fromDense(w, w.length / features, features), bias);
  }

  /**
   * Times, for every layer with a sparse kernel, a forward of a random batch of {@code batch} with
   * the dense kernel and with the sparse one, back to back, best of {@code repeats}.
   */
  public static List<LayerTiming> measure(NetworkSpec spec, Map<String, float[]> state, int batch, int repeats) {
    List<LayerTiming> out = new ArrayList<>();
    LinkedHashMap<String, int[]> shapes = spec.shapes();
    List<LayerSpec> layers = spec.layerSpecs();
    for (int i = 0; i < spec.nodes().size(); i++) {
      Node n = spec.nodes().get(i);
      if (!canRunSparse(spec, n)) {
        continue;
      }
      int[][] in = n.inputs().stream().map(shapes::get).toArray(int[][]::new);
      int[] outShape = shapes.get(n.name());
      float[] w = BatchNormFolding.require(state, n.name() + ".weight");
      long nnz = 0;
      for (float v : w) {
        if (v != 0f) {
          nnz++;
        }
      }
      try (Tensor x = random(Inference.batched(batch, in[0]), i);
          Tensor y = Tensor.zeros(Inference.batched(batch, outShape));
          GraphExecutor.NodeKernel dense = GraphExecutor.layerKernel(n, layers.get(i), in, outShape, state, i + 1);
          GraphExecutor.NodeKernel sparse = sparseKernel(n, layers.get(i), in, state, i + 1)) {
        double denseMillis = best(dense, x, y, repeats);
        double sparseMillis = best(sparse, x, y, repeats);
        out.add(new LayerTiming(n.name(), (double) nnz / w.length, denseMillis, sparseMillis));
      }
    }
    return out;
  }

  /** The layers whose sparse kernel measured faster. */
  public static Set<String> fasterSparse(List<LayerTiming> timings) {
    Set<String> out = new LinkedHashSet<>();
    for (LayerTiming t : timings) {
      if (t.sparseFaster()) {
        out.add(t.node());
      }
    }
    return out;
  }

  private static double best(GraphExecutor.NodeKernel k, Tensor x, Tensor y, int repeats) {
    Tensor[] in = {x};
    k.forward(in, y);
    double best = Double.POSITIVE_INFINITY;
    for (int r = 0; r < repeats; r++) {
      long t = System.nanoTime();
      k.forward(in, y);
      best = Math.min(best, (System.nanoTime() - t) / 1e6);
    }
    return best;
  }

  private static Tensor random(int[] shape, long seed) {
    Tensor t = Tensor.zeros(shape);
    Rng rng = new Rng(seed);
    for (long i = 0; i < t.numel(); i++) {
      t.setFlat(i, (float) rng.uniform(0, 1));
    }
    return t;
  }

  /** Stored size: each prunable weight as CSR where that is smaller than dense fp32, everything else fp32. */
  public static ModelSize size(NetworkSpec spec, Map<String, float[]> state) {
    LinkedHashMap<String, int[]> shapes = spec.shapes();
    Set<String> prunable = new LinkedHashSet<>(MagnitudePruning.prunableWeights(spec));
    long bytes = 0;
    long values = 0;
    for (Map.Entry<String, float[]> e : state.entrySet()) {
      float[] v = e.getValue();
      if (!prunable.contains(e.getKey())) {
        bytes += (long) Float.BYTES * v.length;
        values += v.length;
        continue;
      }
      String node = e.getKey().substring(0, e.getKey().length() - ".weight".length());
      int rows = shapes.get(node)[0];
      CsrMatrix csr = CsrMatrix.fromDense(v, rows, v.length / rows);
      bytes += Math.min(csr.bytes(), (long) Float.BYTES * v.length);
      values += csr.nonZeros();
    }
    return new ModelSize("csr", values, bytes);
  }

  /**
   * The stored form of an unstructured-pruned state dict: each prunable weight as CSR ({@code
   * csr/<name>/row_start}, {@code columns} (int16 when the columns fit), {@code values}) where that
   * is smaller than dense, otherwise {@code fp32/<name>} like every other entry.
   */
  public static TensorArchive toArchive(NetworkSpec spec, Map<String, float[]> state) {
    LinkedHashMap<String, int[]> shapes = spec.shapes();
    Set<String> prunable = new LinkedHashSet<>(MagnitudePruning.prunableWeights(spec));
    TensorArchive a = new TensorArchive().putMetadata("method", "csr");
    state.forEach((name, v) -> {
      if (prunable.contains(name)) {
        int rows = shapes.get(name.substring(0, name.length() - ".weight".length()))[0];
        CsrMatrix csr = CsrMatrix.fromDense(v, rows, v.length / rows);
        if (csr.bytes() < (long) Float.BYTES * v.length) {
          a.put("csr/" + name + "/row_start", csr.rowStart());
          a.put("csr/" + name + "/values", csr.values());
          if (csr.cols() <= 1 << Short.SIZE) {
            short[] cols = new short[csr.nonZeros()];
            for (int i = 0; i < cols.length; i++) {
              cols[i] = (short) csr.columns()[i];
            }
            a.put("csr/" + name + "/columns", cols);
          } else {
            a.put("csr/" + name + "/columns", csr.columns());
          }
          a.put("csr/" + name + "/shape", new int[] {rows, v.length / rows});
          return;
        }
      }
      a.put("fp32/" + name, v);
    });
    return a;
  }

  /** The fp32 state dict (pruned weights as zeros) of {@link #toArchive}'s form. */
  public static LinkedHashMap<String, float[]> stateFromArchive(TensorArchive a) {
    if (!"csr".equals(a.metadata("method"))) {
      throw new io.dlsql.catalog.UserException("the stored compressed model is " + a.metadata("method") + ", not csr");
    }
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    a.entries().forEach((k, v) -> {
      if (k.startsWith("fp32/")) {
        out.put(k.substring("fp32/".length()), (float[]) v);
      } else if (k.endsWith("/shape")) {
        String name = k.substring("csr/".length(), k.length() - "/shape".length());
        String p = "csr/" + name + "/";
        int[] shape = a.ints(p + "shape");
        Object raw = a.entries().get(p + "columns");
        int[] cols;
        if (raw instanceof short[] s) {
          cols = new int[s.length];
          for (int i = 0; i < s.length; i++) {
            cols[i] = s[i] & 0xFFFF;
          }
        } else {
          cols = a.ints(p + "columns");
        }
        out.put(name, new CsrMatrix(shape[0], shape[1], a.ints(p + "row_start"), cols, a.floats(p + "values")).toDense());
      }
    });
    return out;
  }

  /** The layers running sparse kernels. */
  public Set<String> sparseNodes() {
    return sparseNodes;
  }

  @Override
  public NetworkSpec spec() {
    return spec;
  }

  @Override
  public Tensor forward(Tensor x) {
    return executor.forward(x, null);
  }

  @Override
  public void close() {
    executor.close();
  }
}
