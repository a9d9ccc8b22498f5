package io.dlsql.jdbc;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.catalog.DType;
import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.ModelStatus;
import io.dlsql.catalog.NDArray;
import io.dlsql.catalog.UserException;
import io.dlsql.catalog.WeightSet;
import io.dlsql.executor.compress.Codebook;
import io.dlsql.executor.compress.InferenceModel;
import io.dlsql.executor.compress.NarrowWeights;
import io.dlsql.executor.compress.QuantizedNetwork;
import io.dlsql.planner.explain.ExplainRow;
import io.dlsql.executor.compress.SparseNetwork;
import io.dlsql.executor.compress.TensorArchive;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.Dataset;
import io.dlsql.executor.train.EvaluationResult;
import io.dlsql.executor.train.Evaluator;
import io.dlsql.executor.train.Predictor;
import io.dlsql.planner.PlanRequest;
import java.lang.foreign.MemorySegment;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * How every model variant is stored and opened. An fp32 model (trained, pruned by channels,
 * distilled, fine-tuned) is an ordinary weight set; a compressed representation (int8, fp16,
 * bf16, codebook, CSR) is one {@link TensorArchive} stored as a single int8 array of the weight
 * set, so the catalog's checksummed, atomic weight files hold it and its size on disk is the
 * representation's. A variant whose layers are physically smaller (structured pruning) records
 * the changed layer attributes as model properties, applied over its definition's network.
 */
final class ModelVariants {
  /** The weight-set entry that holds a compressed variant's archive bytes. */
  static final String ARCHIVE_ENTRY = "compressed_archive";
  /** Model property: the compression method that made the variant (absent for fp32 models). */
  static final String METHOD = "compression";
  /** Model property: the layers that run CSR kernels because they measured faster than dense. */
  static final String SPARSE_LAYERS = "sparse_layers";
  /** Model property prefix of a changed layer attribute: {@code structure.<layer>.<attribute>}. */
  static final String STRUCTURE_PREFIX = "structure.";
  /** Archive methods whose weights are not fp32 and cannot be trained further. */
  static final Set<String> QUANTIZED = Set.of("int8", "fp16", "bf16", "codebook");
  private static final String ARCHIVE_INT8 = "int8";
  private static final String ARCHIVE_CSR = "csr";
  private static final String LIST_SEPARATOR = ",";

  private final Session session;

  ModelVariants(Session session) {
    this.session = session;
  }

  // ---- stored forms ----

  /** A weight set holding one compressed representation. */
  static WeightSet archiveWeights(TensorArchive archive) {
    byte[] bytes = archive.encode();
    return WeightSet.empty().with(ARCHIVE_ENTRY, NDArray.ofBytes(new int[] {bytes.length}, DType.INT8, bytes));
  }

  static boolean isArchive(WeightSet weights) {
    return weights.arrays().size() == 1 && weights.arrays().containsKey(ARCHIVE_ENTRY)
        && weights.get(ARCHIVE_ENTRY).dtype() == DType.INT8;
  }

  static TensorArchive archive(WeightSet weights) {
    return TensorArchive.decode(weights.get(ARCHIVE_ENTRY).bytes());
  }

  /**
   * The fp32 state dict a weight set stands for: fp32 arrays as they are, fp16/bf16 widened,
   * codebooks decoded, CSR expanded with zeros. An int8 model has no fp32 state of its own
   * definition (its batchnorms are folded into the convolutions), so asking for one is an error.
   */
  static LinkedHashMap<String, float[]> floatState(WeightSet weights) {
    if (!isArchive(weights)) {
      LinkedHashMap<String, float[]> state = new LinkedHashMap<>();
      weights.arrays().forEach((k, v) -> state.put(k, v.floats()));
      return state;
    }
    TensorArchive a = archive(weights);
    return switch (a.metadata("method")) {
      case "fp16", "bf16" -> NarrowWeights.fromArchive(a).widen();
      case "codebook" -> Codebook.fromArchive(a).decode();
      case ARCHIVE_CSR -> SparseNetwork.stateFromArchive(a);
      case ARCHIVE_INT8 -> throw new UserException(
          "an int8-quantized model has no fp32 weights of its own; use the model it was compressed from");
      default -> throw new UserException("the stored model has an unknown compressed form '" + a.metadata("method") + "'");
    };
  }

  /** The network of {@code definition} with the layer attributes recorded in {@code properties} applied. */
  static NetworkSpec applyStructure(NetworkSpec definition, Map<String, String> properties) {
    Map<String, Map<String, Object>> changes = new LinkedHashMap<>();
    properties.forEach((key, value) -> {
      if (!key.startsWith(STRUCTURE_PREFIX)) {
        return;
      }
      String rest = key.substring(STRUCTURE_PREFIX.length());
      int dot = rest.lastIndexOf('.');
      if (dot <= 0) {
        throw new IllegalStateException("malformed structure property " + key);
      }
      changes.computeIfAbsent(rest.substring(0, dot), k -> new LinkedHashMap<>())
          .put(rest.substring(dot + 1), Integer.valueOf(value));
    });
    if (changes.isEmpty()) {
      return definition;
    }
    List<Node> nodes = definition.nodes().stream().map(n -> {
      Map<String, Object> change = changes.remove(n.name());
      if (change == null) {
        return n;
      }
      Map<String, Object> attrs = new LinkedHashMap<>(n.attrs());
      attrs.putAll(change);
      return new Node(n.name(), n.op(), attrs, n.inputs());
    }).toList();
    if (!changes.isEmpty()) {
      throw new IllegalStateException("structure properties name layers the definition lacks: " + changes.keySet());
    }
    return new NetworkSpec(definition.inputName(), definition.inputShape(), definition.classes(), nodes,
        definition.outputName());
  }

  /** The properties that turn {@code definition} into {@code changed} (integer attributes only, sorted). */
  static Map<String, String> structureProperties(NetworkSpec definition, NetworkSpec changed) {
    Map<String, String> out = new TreeMap<>();
    for (int i = 0; i < changed.nodes().size(); i++) {
      Node before = definition.nodes().get(i);
      Node after = changed.nodes().get(i);
      if (!before.name().equals(after.name())) {
        throw new IllegalStateException("layers differ: " + before.name() + " vs " + after.name());
      }
      after.attrs().forEach((k, v) -> {
        if (!v.equals(before.attrs().get(k))) {
          if (!(v instanceof Integer)) {
            throw new IllegalStateException("only integer attributes change structurally, got " + k + "=" + v);
          }
          out.put(STRUCTURE_PREFIX + after.name() + "." + k, v.toString());
        }
      });
    }
    return out;
  }

  /** The structure properties of a model, to carry over to variants made from it. */
  static Map<String, String> structureOf(ModelInfo info) {
    Map<String, String> out = new TreeMap<>();
    info.properties().forEach((k, v) -> {
      if (k.startsWith(STRUCTURE_PREFIX)) {
        out.put(k, v);
      }
    });
    return out;
  }

  /** The compression method that made {@code info}, or null for an fp32 model. */
  static String method(ModelInfo info) {
    return info.properties().get(METHOD);
  }

  /** TRAIN is for fp32 models: a quantized variant is rejected before anything is loaded. */
  static void checkTrainable(ModelInfo info) {
    String method = method(info);
    if (method != null && QUANTIZED.contains(method)) {
      throw new UserException("model '" + info.name() + "' is a quantized (" + method + ") variant of '" + info.parent()
          + "' and cannot be trained; train '" + info.parent() + "' and compress it again");
    }
  }

  static String joinNames(Set<String> names) {
    return String.join(LIST_SEPARATOR, names);
  }

  static Set<String> splitNames(String text) {
    Set<String> out = new LinkedHashSet<>();
    if (text != null) {
      for (String s : text.split(LIST_SEPARATOR)) {
        if (!s.isBlank()) {
          out.add(s.strip());
        }
      }
    }
    return out;
  }

  // ---- opening for inference ----

  /** A stored model opened for inference; closing it frees its kernels and weights. */
  sealed interface Opened extends AutoCloseable {
    /** The model as the executor's common inference interface (closing the view closes this). */
    InferenceModel model();

    /** Accuracy, loss and confusion matrix over labelled data. */
    EvaluationResult evaluate(Dataset data, int batch);

    /** Softmax probabilities, row-major (rows x classes). */
    float[] probabilities(Dataset data, int batch);

    @Override
    void close();
  }

  /** An fp32 network with the planner's choices bound: the executor's evaluator and predictor run it. */
  record Dense(Network network) implements Opened {
    @Override
    public InferenceModel model() {
      return InferenceModel.of(network);
    }

    @Override
    public EvaluationResult evaluate(Dataset data, int batch) {
      return Evaluator.evaluate(network, data, batch);
    }

    @Override
    public float[] probabilities(Dataset data, int batch) {
      return Predictor.predict(network, data, batch, true);
    }

    @Override
    public void close() {
      network.close();
    }
  }

  /** A compressed representation with its own kernels (int8, CSR). */
  record Compressed(InferenceModel model) implements Opened {
    @Override
    public EvaluationResult evaluate(Dataset data, int batch) {
      return io.dlsql.executor.compress.Inference.evaluate(model, data, batch);
    }

    @Override
    public float[] probabilities(Dataset data, int batch) {
      int[] sample = model.spec().inputShape();
      if (!Arrays.equals(sample, data.sampleShape())) {
        throw new UserException("the model takes images of shape " + Arrays.toString(sample)
            + " but the data has " + Arrays.toString(data.sampleShape()));
      }
      int classes = model.spec().classes();
      int n = data.size();
      float[] out = new float[Math.multiplyExact(n, classes)];
      if (n == 0) {
        return out;
      }
      int size = Math.min(batch, n);
      int[] shape = new int[sample.length + 1];
      shape[0] = size;
      System.arraycopy(sample, 0, shape, 1, sample.length);
      int[] indices = new int[n];
      Arrays.setAll(indices, i -> i);
      try (Tensor buffer = Tensor.zeros(shape)) {
        for (int from = 0; from < n; from += size) {
          int count = Math.min(size, n - from);
          Tensor x = buffer.slice(0, count);
          data.load(indices, from, count, x, null);
          MemorySegment.copy(model.forward(x).segment(), F32, 0, out, from * classes, count * classes);
        }
      }
      softmaxRows(out, classes);
      return out;
    }

    @Override
    public void close() {
      model.close();
    }
  }

  /** Row-wise softmax in place, max-subtracted, summed in double. */
  static void softmaxRows(float[] z, int classes) {
    for (int row = 0; row < z.length; row += classes) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < classes; j++) {
        max = Math.max(max, z[row + j]);
      }
      double sum = 0;
      for (int j = 0; j < classes; j++) {
        sum += Math.exp(z[row + j] - max);
      }
      for (int j = 0; j < classes; j++) {
        z[row + j] = (float) (Math.exp(z[row + j] - max) / sum);
      }
    }
  }

  /**
   * The rows of EXPLAIN for a model that runs its own int8 kernels instead of a planned fp32
   * network (empty for every other model): a plan row, then one row per step in the order
   * {@link QuantizedNetwork#forward} runs them, with fused chains, precision and kernel. The
   * planner's cost model does not price int8 kernels, so the estimate columns are -1.
   */
  List<ExplainRow> explainInt8(ModelInfo info, String mode) throws SQLException {
    if (info.status() != ModelStatus.TRAINED) {
      return List.of();
    }
    WeightSet weights = session.catalog().loadWeights(info.name());
    if (!isArchive(weights)) {
      return List.of();
    }
    TensorArchive a = archive(weights);
    if (!ARCHIVE_INT8.equals(a.metadata("method"))) {
      return List.of();
    }
    NetworkSpec spec = ModelStatements.spec(info);
    int threads = io.dlsql.executor.kernel.Parallel.get().threads();
    List<ExplainRow> rows = new java.util.ArrayList<>();
    rows.add(new ExplainRow(ExplainRow.Kind.PLAN, -1, 0, mode, spec.outputName(), "", "", "", "", "int8", "", 0,
        NO_ESTIMATE, -1));
    try (QuantizedNetwork q = QuantizedNetwork.open(spec, QuantizedNetwork.Int8Model.fromArchive(spec, a))) {
      int id = 1;
      for (QuantizedNetwork.Step step : q.steps()) {
        rows.add(new ExplainRow(ExplainRow.Kind.OPERATOR, id++, 1, step.operator(), step.name(), step.algorithm(),
            "nchw", "", step.fusion(), step.precision(), "-", threads, NO_ESTIMATE, -1));
      }
    }
    return rows;
  }

  /** The estimate columns of a row the cost model has no estimate for. */
  private static final double NO_ESTIMATE = -1;

  /** A trained model from the catalog, opened for a run of {@code request}'s batch size. */
  Opened open(ModelInfo info, PlanRequest request) throws SQLException {
    if (info.status() != ModelStatus.TRAINED) {
      throw new UserException("model '" + info.name() + "' has not been trained yet: run TRAIN MODEL " + info.name() + " ON (...)");
    }
    return open(info, session.catalog().loadWeights(info.name()), request);
  }

  /**
   * A model opened from its stored form (which need not be in the catalog yet): int8 and CSR with
   * sparse layers run their own kernels; everything else is an fp32 network planned for
   * {@code request} like any trained model.
   */
  Opened open(ModelInfo info, WeightSet weights, PlanRequest request) throws SQLException {
    NetworkSpec spec = ModelStatements.spec(info);
    if (isArchive(weights)) {
      TensorArchive a = archive(weights);
      String method = a.metadata("method");
      if (method.equals(ARCHIVE_INT8)) {
        return new Compressed(QuantizedNetwork.open(spec, QuantizedNetwork.Int8Model.fromArchive(spec, a)));
      }
      Set<String> sparse = splitNames(info.properties().get(SPARSE_LAYERS));
      if (method.equals(ARCHIVE_CSR) && !sparse.isEmpty()) {
        return new Compressed(SparseNetwork.open(spec, SparseNetwork.stateFromArchive(a), sparse));
      }
    }
    Network network = Network.build(spec, ModelStatements.DEFINITION_SEED);
    try {
      network.loadStateDict(floatState(weights));
      new Planning(session).bind(info, request, network);
      return new Dense(network);
    } catch (RuntimeException | SQLException e) {
      network.close();
      throw e;
    }
  }
}
