package io.dlsql.jdbc;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.ModelStatus;
import io.dlsql.catalog.UserException;
import io.dlsql.catalog.WeightSet;
import io.dlsql.executor.compress.Calibration;
import io.dlsql.executor.compress.Codebook;
import io.dlsql.executor.compress.CompressionTrainer;
import io.dlsql.executor.compress.Distillation;
import io.dlsql.executor.compress.MagnitudePruning;
import io.dlsql.executor.compress.NarrowWeights;
import io.dlsql.executor.compress.PruningMask;
import io.dlsql.executor.compress.QuantizedNetwork;
import io.dlsql.executor.compress.SparseNetwork;
import io.dlsql.executor.compress.StructuredPruning;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.train.TrainOptions;
import io.dlsql.parser.Arguments;
import io.dlsql.parser.SqlCompressModel;
import io.dlsql.parser.SqlCompressionMethod;
import io.dlsql.planner.PlanRequest;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * COMPRESS MODEL: makes a new catalog model from a trained one by int8 static quantization,
 * fp16/bf16 weight storage, a k-means codebook, unstructured or channel pruning (optionally
 * fine-tuned with the pruning kept), or distillation into a student architecture. Everything the
 * statement says is checked before any data is read; the variant is written in one atomic
 * catalog step at the end, with its lineage (kind, parent, statement), parameters, size on disk
 * and, unless {@code measure = false}, its measured latency and throughput (and its parent's, when
 * the parent has none). Returns one row describing the new variant.
 */
final class Compression {
  static final String KIND_INT8 = "int8";
  static final String KIND_FP16 = "fp16";
  static final String KIND_BF16 = "bf16";
  static final String KIND_CODEBOOK = "codebook";
  static final String KIND_PRUNED = "pruned";
  static final String KIND_PRUNED_CHANNELS = "pruned_channels";
  static final String KIND_DISTILLED = "distilled";

  /** WITH option of every method: measure latency and throughput after compressing. */
  static final String MEASURE = "measure";
  /** WITH option of PRUNE: which layers run CSR kernels ('measured', 'all' or 'none'). */
  static final String SPARSE_KERNELS = "sparse_kernels";
  /** TRAIN options the compression training loop does not implement. */
  static final Set<String> UNSUPPORTED_TRAINING =
      Set.of("validation", "augment", "crop_padding", "flip", "early_stopping", "memory_limit");
  /** Batch and repeats of the per-layer dense-versus-CSR timing that picks the sparse layers. */
  static final int SPARSE_MEASURE_BATCH = 64;
  static final int SPARSE_MEASURE_REPEATS = 3;
  /** Default unstructured scope (one threshold over all layers, as magnitude pruning is usually run). */
  static final MagnitudePruning.Scope DEFAULT_PRUNE_SCOPE = MagnitudePruning.Scope.GLOBAL;
  /** Default channel scope: the same fraction of every layer, so every layer gets smaller. */
  static final MagnitudePruning.Scope DEFAULT_CHANNEL_SCOPE = MagnitudePruning.Scope.LAYER;
  private static final String CRITERION_L1 = "l1";

  /** What USING asked for, with its arguments checked. */
  sealed interface Method {
    String kind();

    /** The name USING spells it with, for messages. */
    default String sqlName() {
      return switch (kind()) {
        case KIND_PRUNED -> "PRUNE";
        case KIND_PRUNED_CHANNELS -> "PRUNE_CHANNELS";
        case KIND_DISTILLED -> "DISTILL";
        default -> kind().toUpperCase(Locale.ROOT);
      };
    }

    /** A quantization to static int8 with calibrated activation ranges. */
    record Int8() implements Method {
      @Override
      public String kind() {
        return KIND_INT8;
      }
    }

    /** 16-bit weight storage. */
    record Narrow(NarrowWeights.Format format) implements Method {
      @Override
      public String kind() {
        return format == NarrowWeights.Format.FP16 ? KIND_FP16 : KIND_BF16;
      }
    }

    /** Weight sharing with {@code 2^bits} values per layer. */
    record Shared(int bits) implements Method {
      @Override
      public String kind() {
        return KIND_CODEBOOK;
      }
    }

    /** Unstructured magnitude pruning to a sparsity. */
    record Prune(double sparsity, MagnitudePruning.Scope scope) implements Method {
      @Override
      public String kind() {
        return KIND_PRUNED;
      }
    }

    /** Whole filters and units removed by L1 norm. */
    record PruneChannels(double fraction, MagnitudePruning.Scope scope) implements Method {
      @Override
      public String kind() {
        return KIND_PRUNED_CHANNELS;
      }
    }

    /** A student model trained against this one. */
    record Distill(ModelInfo student, Distillation.Options options) implements Method {
      @Override
      public String kind() {
        return KIND_DISTILLED;
      }
    }
  }

  /** The variant before it is written: its stored form and what the catalog records about it. */
  private record Variant(String definition, WeightSet weights, long parameters, Map<String, String> properties,
      ModelInfo shape, int epochsTrained, Double lastTrainLoss) {}

  private final Session session;
  private final ModelStatements models;
  private String statement;

  Compression(Session session) {
    this.session = session;
    this.models = new ModelStatements(session);
  }

  private Catalog catalog() {
    return session.catalog();
  }

  ResultRows compress(SqlCompressModel compress, String sql, Execution execution) throws SQLException {
    String sourceName = ModelStatements.modelName(compress.model());
    String target = ModelStatements.modelName(compress.target());
    statement = "COMPRESS MODEL " + sourceName;
    ModelInfo source = models.model(sourceName);
    checkTargetFree(sourceName, target);
    if (source.status() != ModelStatus.TRAINED) {
      throw new UserException(statement + ": model '" + sourceName + "' has not been trained yet; run TRAIN MODEL "
          + sourceName + " ON (...) before compressing it");
    }
    Method method = method(compress.method());
    checkClauses(compress, method);
    Map<String, Object> options = new LinkedHashMap<>(compress.options());
    boolean measure = flag(options.remove(MEASURE), true);
    SparseKernels sparseKernels = method instanceof Method.Prune ? sparseKernels(options.remove(SPARSE_KERNELS)) : null;
    MethodOptions settings = methodOptions(method, compress.finetuneQuery().isPresent(), options);
    if (!(method instanceof Method.Distill) && ModelVariants.method(source) != null
        && ModelVariants.method(source).equals(KIND_INT8)) {
      throw new UserException(statement + ": model '" + sourceName + "' is int8-quantized; compress the model it was"
          + " made from ('" + source.parent() + "') instead");
    }

    Variant variant = switch (method) {
      case Method.Int8 m -> int8(source, compress.calibrationQuery().orElseThrow(), settings.calibration(), execution);
      case Method.Narrow m -> narrow(source, m);
      case Method.Shared m -> codebook(source, m);
      case Method.Prune m -> prune(source, m, compress.finetuneQuery().orElse(null), settings.training(),
          measure ? sparseKernels : sparseKernels.withoutMeasuring(), execution);
      case Method.PruneChannels m -> pruneChannels(source, m, compress.finetuneQuery().orElse(null),
          settings.training(), execution);
      case Method.Distill m -> distill(source, m, compress.trainingQuery().orElseThrow(), settings.training(),
          execution);
    };
    Map<String, String> properties = new LinkedHashMap<>(variant.properties());
    properties.put(ModelVariants.METHOD, method.kind());
    ModelInfo shape = variant.shape();
    ModelInfo info = ModelInfo.builder(target)
        .definition(variant.definition())
        .statement(sql)
        .kind(method.kind())
        .parent(source.name())
        .status(ModelStatus.TRAINED)
        .inputName(shape.inputName())
        .inputDims(shape.inputDims())
        .labelColumn(shape.labelColumn())
        .classes(shape.classes())
        .parameterCount(variant.parameters())
        .epochsTrained(variant.epochsTrained())
        .lastTrainLoss(variant.lastTrainLoss())
        .properties(properties)
        .build();
    ModelMetrics parentMetrics = null;
    if (measure) {
      execution.report(new Execution.Progress("measuring", target, 0, 0, 0, 0, Double.NaN, 0, Double.NaN));
      info = ModelMetrics.measure(session, info, variant.weights(), execution).applyTo(info);
      if (source.latencyMs() == null || source.throughput() == null) {
        parentMetrics = ModelMetrics.measure(session, source, execution);
      }
    }
    execution.checkCancelled();
    checkTargetFree(sourceName, target);
    ModelInfo saved = catalog().saveModel(info, variant.weights());
    ModelInfo parent = source;
    if (parentMetrics != null) {
      ModelMetrics m = parentMetrics;
      parent = catalog().model(sourceName).map(p -> catalog().updateModelInfo(m.applyTo(p))).orElse(source);
    }
    return ResultRows.builder()
        .column("model", SqlTypeName.VARCHAR)
        .column("kind", SqlTypeName.VARCHAR)
        .column("parent", SqlTypeName.VARCHAR)
        .column("parameters", SqlTypeName.BIGINT)
        .column("size_bytes", SqlTypeName.BIGINT)
        .column("size_ratio", SqlTypeName.DOUBLE)
        .column("latency_ms", SqlTypeName.DOUBLE)
        .column("throughput", SqlTypeName.DOUBLE)
        .row(saved.name(), saved.kind(), saved.parent(), saved.parameterCount(), saved.sizeBytes(),
            (double) parent.sizeBytes() / saved.sizeBytes(), saved.latencyMs(), saved.throughput())
        .build();
  }

  private void checkTargetFree(String source, String target) {
    if (target.equals(source)) {
      throw new UserException(statement + ": INTO needs a new model name; '" + target + "' is the model being compressed");
    }
    if (catalog().model(target).isPresent()) {
      throw new UserException(statement + ": model '" + target + "' already exists; DROP MODEL " + target
          + " first or choose another name");
    }
    if (catalog().table(target).isPresent()) {
      throw new UserException(statement + ": '" + target + "' is already the name of a table");
    }
  }

  // ---- the method and its arguments ----

  private static final String METHODS =
      "QUANTIZE(int8 | fp16 | bf16 | codebook), INT8, FP16, BF16, CODEBOOK(bits), PRUNE(sparsity), PRUNE_CHANNELS(fraction),"
          + " DISTILL(STUDENT model)";

  private Method method(SqlCompressionMethod node) {
    String name = node.name();
    Arguments args = node.arguments();
    List<Object> positional = new ArrayList<>(args.positional());
    Map<String, Object> named = new LinkedHashMap<>(args.named());
    Method method = switch (name) {
      case "QUANTIZE" -> {
        if (positional.isEmpty()) {
          throw new UserException(statement + ": QUANTIZE needs a precision: QUANTIZE(int8), QUANTIZE(fp16),"
              + " QUANTIZE(bf16) or QUANTIZE(codebook, BITS n)");
        }
        String precision = word(positional.removeFirst(), "QUANTIZE's precision");
        yield switch (precision) {
          case KIND_INT8 -> new Method.Int8();
          case KIND_FP16 -> new Method.Narrow(NarrowWeights.Format.FP16);
          case KIND_BF16 -> new Method.Narrow(NarrowWeights.Format.BF16);
          case KIND_CODEBOOK -> new Method.Shared(bits(named.remove("bits"), "QUANTIZE(codebook, BITS n)"));
          default -> throw new UserException(statement + ": unknown precision '" + precision
              + "' for QUANTIZE; use int8, fp16, bf16 or codebook");
        };
      }
      case "INT8" -> new Method.Int8();
      case "FP16" -> new Method.Narrow(NarrowWeights.Format.FP16);
      case "BF16" -> new Method.Narrow(NarrowWeights.Format.BF16);
      case "CODEBOOK" -> new Method.Shared(bits(first(positional, named, "bits"), "CODEBOOK(bits)"));
      case "PRUNE" -> {
        double sparsity = fraction(first(positional, named, "sparsity"), "sparsity", "PRUNE(sparsity)");
        criterion(named.remove("method"));
        yield new Method.Prune(sparsity, scope(named.remove("scope"), DEFAULT_PRUNE_SCOPE));
      }
      case "PRUNE_CHANNELS" -> {
        double fraction = fraction(first(positional, named, "fraction"), "fraction", "PRUNE_CHANNELS(fraction)");
        criterion(named.remove("method"));
        yield new Method.PruneChannels(fraction, scope(named.remove("scope"), DEFAULT_CHANNEL_SCOPE));
      }
      case "DISTILL" -> {
        Object student = named.remove("student");
        if (student == null && !positional.isEmpty()) {
          student = positional.removeFirst();
        }
        if (student == null) {
          throw new UserException(statement + ": DISTILL needs a student model: DISTILL(STUDENT small_model);"
              + " create it first with CREATE MODEL");
        }
        String studentName = word(student, "the student");
        ModelInfo studentInfo = session.catalog().model(studentName).orElseThrow(() -> new UserException(statement
            + ": the student model '" + studentName + "' does not exist; CREATE MODEL " + studentName + " (...) first"));
        Map<String, Object> soft = new LinkedHashMap<>();
        for (String key : List.of("temperature", "alpha")) {
          if (named.containsKey(key)) {
            soft.put(key, named.remove(key));
          }
        }
        yield new Method.Distill(studentInfo, Distillation.Options.fromMap(soft));
      }
      default -> throw new UserException(statement + ": unknown compression method " + name + "; methods are " + METHODS);
    };
    if (!positional.isEmpty()) {
      throw new UserException(statement + ": " + name + " takes no further positional arguments, got " + positional);
    }
    if (!named.isEmpty()) {
      throw new UserException(statement + ": " + name + " has no argument " + String.join(", ", named.keySet()).toUpperCase(Locale.ROOT)
          + "; see the README's COMPRESS MODEL section for each method's arguments");
    }
    return method;
  }

  /** The first positional argument, or the named one; removes what it returns. */
  private static Object first(List<Object> positional, Map<String, Object> named, String name) {
    Object value = named.remove(name);
    if (value == null && !positional.isEmpty()) {
      value = positional.removeFirst();
    }
    return value;
  }

  private String word(Object value, String what) {
    return switch (value) {
      case SqlIdentifier id when id.isSimple() -> id.getSimple().toLowerCase(Locale.ROOT);
      case String s -> s.toLowerCase(Locale.ROOT);
      default -> throw new UserException(statement + ": " + what + " must be a name, got " + value);
    };
  }

  private int bits(Object value, String usage) {
    if (value == null) {
      throw new UserException(statement + ": the codebook needs its number of bits: " + usage);
    }
    if (!(value instanceof Integer bits)) {
      throw new UserException(statement + ": codebook bits must be a whole number, got " + value);
    }
    if (bits < Codebook.MIN_BITS || bits > Codebook.MAX_BITS) {
      throw new UserException(statement + ": codebook bits must be between " + Codebook.MIN_BITS + " and "
          + Codebook.MAX_BITS + ", got " + bits);
    }
    return bits;
  }

  private double fraction(Object value, String name, String usage) {
    if (value == null) {
      throw new UserException(statement + ": the " + name + " is missing: " + usage + " with a fraction in [0, 1)");
    }
    if (!(value instanceof Number n)) {
      throw new UserException(statement + ": the " + name + " must be a number in [0, 1), got " + value);
    }
    double v = n.doubleValue();
    if (!(v >= 0 && v < 1)) {
      throw new UserException(statement + ": the " + name + " must be in [0, 1), got " + value);
    }
    return v;
  }

  private void criterion(Object value) {
    if (value != null && !CRITERION_L1.equals(word(value, "METHOD"))) {
      throw new UserException(statement + ": pruning METHOD must be 'l1' (magnitude), got " + value);
    }
  }

  private MagnitudePruning.Scope scope(Object value, MagnitudePruning.Scope fallback) {
    return value == null ? fallback : MagnitudePruning.Scope.parse(word(value, "SCOPE"));
  }

  // ---- clauses and WITH options ----

  private void checkClauses(SqlCompressModel compress, Method method) {
    boolean calibrate = compress.calibrationQuery().isPresent();
    boolean finetune = compress.finetuneQuery().isPresent();
    boolean train = compress.trainingQuery().isPresent();
    String kind = method.sqlName();
    if (method instanceof Method.Int8 && !calibrate) {
      throw new UserException(statement + ": int8 quantization needs CALIBRATE ON (query): a few hundred rows of"
          + " the model's input to measure activation ranges on");
    }
    if (calibrate && !(method instanceof Method.Int8)) {
      throw new UserException(statement + ": CALIBRATE ON is for int8 quantization only, not " + kind);
    }
    if (finetune && !(method instanceof Method.Prune || method instanceof Method.PruneChannels)) {
      throw new UserException(statement + ": FINETUNE ON is for PRUNE and PRUNE_CHANNELS only, not " + kind);
    }
    if (method instanceof Method.Distill && !train) {
      throw new UserException(statement + ": DISTILL needs ON (query): the labelled rows to train the student on");
    }
    if (train && !(method instanceof Method.Distill)) {
      throw new UserException(statement + ": ON (query) is DISTILL's training data; "
          + (method instanceof Method.Int8 ? "int8 calibrates ON its CALIBRATE ON rows"
              : method instanceof Method.Prune || method instanceof Method.PruneChannels
                  ? "pruning fine-tunes with FINETUNE ON (query)" : kind + " needs no data"));
    }
  }

  /** The method's own WITH options: int8's calibration settings, or the training run's (each null when not used). */
  private record MethodOptions(Calibration.Options calibration, TrainOptions training) {}

  /** Checks the WITH options left after the common ones against what the method takes. */
  private MethodOptions methodOptions(Method method, boolean finetune, Map<String, Object> options) {
    Set<String> known = new TreeSet<>();
    boolean training = method instanceof Method.Distill
        || finetune && (method instanceof Method.Prune || method instanceof Method.PruneChannels);
    if (method instanceof Method.Int8) {
      known.addAll(Calibration.Options.KNOWN);
    } else if (training) {
      known.addAll(TrainOptions.KNOWN);
      known.removeAll(UNSUPPORTED_TRAINING);
    }
    for (String key : options.keySet()) {
      if (known.contains(key)) {
        continue;
      }
      if (UNSUPPORTED_TRAINING.contains(key) && training) {
        throw new UserException(statement + ": the training option '" + key + "' is not supported when COMPRESS trains;"
            + " supported: " + String.join(", ", known));
      }
      if (TrainOptions.KNOWN.contains(key) && !UNSUPPORTED_TRAINING.contains(key)
          && (method instanceof Method.Prune || method instanceof Method.PruneChannels)) {
        throw new UserException(statement + ": option '" + key + "' is a fine-tuning option; add FINETUNE ON (query)");
      }
      Set<String> all = new TreeSet<>(known);
      all.add(MEASURE);
      if (method instanceof Method.Prune) {
        all.add(SPARSE_KERNELS);
      }
      throw new UserException(statement + ": unknown option '" + key + "' for " + method.sqlName()
          + "; known options: " + String.join(", ", all));
    }
    if (method instanceof Method.Int8) {
      return new MethodOptions(Calibration.Options.fromMap(options), null);
    }
    return new MethodOptions(null, training ? TrainOptions.fromMap(options) : null);
  }

  /** Which layers of an unstructured-pruned model run CSR kernels. */
  enum SparseKernels {
    /** Those whose CSR kernel measured faster than the dense one on this machine (the planner's choice). */
    MEASURED,
    /** Every layer that has a CSR kernel. */
    ALL,
    /** None: dense kernels on the zero-filled weights. */
    NONE;

    /** Without measurement there is nothing to choose by, so MEASURED runs dense kernels. */
    SparseKernels withoutMeasuring() {
      return this == MEASURED ? NONE : this;
    }
  }

  private SparseKernels sparseKernels(Object value) {
    if (value == null) {
      return SparseKernels.MEASURED;
    }
    String text = word(value, SPARSE_KERNELS);
    for (SparseKernels k : SparseKernels.values()) {
      if (k.name().equalsIgnoreCase(text)) {
        return k;
      }
    }
    throw new UserException(statement + ": " + SPARSE_KERNELS + " must be 'measured', 'all' or 'none', got '" + value + "'");
  }

  private boolean flag(Object value, boolean fallback) {
    if (value == null) {
      return fallback;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    throw new UserException(statement + ": option '" + MEASURE + "' must be TRUE or FALSE, got " + value);
  }

  // ---- the methods ----

  private Variant int8(ModelInfo source, SqlNode query, Calibration.Options options, Execution execution)
      throws SQLException {
    NetworkSpec spec = ModelStatements.spec(source);
    Map<String, float[]> state = ModelVariants.floatState(catalog().loadWeights(source.name()));
    QuantizedNetwork.Int8Model model;
    int rows;
    try (ModelInputs data = unlabelled(query, source, execution)) {
      if (data.size() == 0) {
        throw new UserException(statement + ": the CALIBRATE ON query returned no rows; int8 quantization needs"
            + " rows to measure activation ranges on");
      }
      rows = data.size();
      execution.report(new Execution.Progress("calibrating", source.name(), 0, 0, 0, 0, Double.NaN, 0, Double.NaN));
      try (QuantizedNetwork q = QuantizedNetwork.quantize(spec, state, data.dataset(), options)) {
        model = q.model();
      }
    }
    Map<String, String> properties = inherited(source);
    properties.put("calibration", options.method().name().toLowerCase(Locale.ROOT));
    properties.put("calibration_rows", Integer.toString(rows));
    return new Variant(source.definition(), ModelVariants.archiveWeights(model.toArchive()), source.parameterCount(),
        properties, source, source.epochsTrained(), source.lastTrainLoss());
  }

  private Variant narrow(ModelInfo source, Method.Narrow method) {
    Map<String, float[]> state = ModelVariants.floatState(catalog().loadWeights(source.name()));
    NarrowWeights narrow = NarrowWeights.narrow(state, method.format());
    return new Variant(source.definition(), ModelVariants.archiveWeights(narrow.toArchive()), source.parameterCount(),
        inherited(source), source, source.epochsTrained(), source.lastTrainLoss());
  }

  private Variant codebook(ModelInfo source, Method.Shared method) throws SQLException {
    Map<String, float[]> state = ModelVariants.floatState(catalog().loadWeights(source.name()));
    Codebook codebook = Codebook.quantize(ModelStatements.spec(source), state, method.bits());
    Map<String, String> properties = inherited(source);
    properties.put("bits", Integer.toString(method.bits()));
    return new Variant(source.definition(), ModelVariants.archiveWeights(codebook.toArchive()),
        source.parameterCount(), properties, source, source.epochsTrained(), source.lastTrainLoss());
  }

  /** Properties every variant of {@code source} with the same layers starts from. */
  private static Map<String, String> inherited(ModelInfo source) {
    return new LinkedHashMap<>(ModelVariants.structureOf(source));
  }

  private Variant prune(ModelInfo source, Method.Prune method, SqlNode finetune, TrainOptions opts,
      SparseKernels kernels, Execution execution) throws SQLException {
    NetworkSpec spec = ModelStatements.spec(source);
    Map<String, float[]> state = ModelVariants.floatState(catalog().loadWeights(source.name()));
    PruningMask mask = MagnitudePruning.unstructured(spec, state, method.sparsity(), method.scope());
    mask.applyTo(state);
    Trained trained = null;
    if (finetune != null) {
      trained = finetune(source, spec, state, mask, finetune, opts, execution);
      state = trained.state();
    }
    long pruned = 0;
    for (boolean[] keep : mask.keep().values()) {
      for (boolean k : keep) {
        pruned += k ? 0 : 1;
      }
    }
    Map<String, String> properties = inherited(source);
    properties.put("sparsity", Double.toString(mask.sparsity()));
    properties.put("scope", method.scope().name().toLowerCase(Locale.ROOT));
    Set<String> sparse = new LinkedHashSet<>();
    if (kernels == SparseKernels.MEASURED) {
      execution.report(new Execution.Progress("timing sparse kernels", source.name(), 0, 0, 0, 0, Double.NaN, 0,
          Double.NaN));
      sparse = SparseNetwork.fasterSparse(SparseNetwork.measure(spec, state, SPARSE_MEASURE_BATCH, SPARSE_MEASURE_REPEATS));
    } else if (kernels == SparseKernels.ALL) {
      for (var node : spec.nodes()) {
        if (SparseNetwork.canRunSparse(spec, node)) {
          sparse.add(node.name());
        }
      }
    }
    properties.put(ModelVariants.SPARSE_LAYERS, ModelVariants.joinNames(sparse));
    return new Variant(source.definition(), ModelVariants.archiveWeights(SparseNetwork.toArchive(spec, state)),
        source.parameterCount() - pruned, properties, source,
        source.epochsTrained() + (trained == null ? 0 : trained.epochs()),
        trained == null ? source.lastTrainLoss() : trained.lastLoss());
  }

  private Variant pruneChannels(ModelInfo source, Method.PruneChannels method, SqlNode finetune, TrainOptions opts,
      Execution execution) throws SQLException {
    NetworkSpec spec = ModelStatements.spec(source);
    Map<String, float[]> state = ModelVariants.floatState(catalog().loadWeights(source.name()));
    StructuredPruning.Result result = StructuredPruning.prune(spec, state, method.fraction(), method.scope());
    NetworkSpec smaller = result.spec();
    Map<String, float[]> weights = result.weights();
    Trained trained = null;
    if (finetune != null) {
      trained = finetune(source, smaller, weights, null, finetune, opts, execution);
      weights = trained.state();
    }
    Map<String, String> properties = new LinkedHashMap<>(
        ModelVariants.structureProperties(ModelStatements.definitionSpec(source), smaller));
    properties.put("fraction", Double.toString(method.fraction()));
    properties.put("scope", method.scope().name().toLowerCase(Locale.ROOT));
    StringBuilder kept = new StringBuilder();
    result.keptChannels().forEach((layer, n) -> kept.append(kept.isEmpty() ? "" : ",").append(layer).append('=').append(n));
    properties.put("kept_channels", kept.toString());
    WeightSet stored;
    long parameters;
    try (Network network = Network.build(smaller, ModelStatements.DEFINITION_SEED)) {
      network.loadStateDict(weights);
      stored = ModelStatements.weightSet(network.stateDict(), network.shapes());
      parameters = network.parameterCount();
    }
    return new Variant(source.definition(), stored, parameters, properties, source,
        source.epochsTrained() + (trained == null ? 0 : trained.epochs()),
        trained == null ? source.lastTrainLoss() : trained.lastLoss());
  }

  private Variant distill(ModelInfo teacher, Method.Distill method, SqlNode query, TrainOptions opts,
      Execution execution) throws SQLException {
    ModelInfo student = method.student();
    NetworkSpec studentSpec = ModelStatements.spec(student);
    try {
      Distillation.checkCompatible(ModelStatements.spec(teacher), studentSpec);
    } catch (UserException e) {
      throw new UserException(statement + ": the student '" + student.name() + "' does not fit the teacher '"
          + teacher.name() + "': " + e.getMessage(), e);
    }
    List<CompressionTrainer.Epoch> history;
    WeightSet stored;
    long parameters;
    try (ModelInputs data = labelled(query, teacher, execution);
        ModelVariants.Opened teacherModel = new ModelVariants(session).open(teacher,
            PlanRequest.infer(opts.batchSize(), session.settings()));
        Network network = Network.build(studentSpec, opts.seed(), opts.init())) {
      execution.report(new Execution.Progress("distilling", student.name(), 0, opts.epochs(), 0, 0, Double.NaN, 0,
          Double.NaN));
      history = withThreads(opts.threads(),
          () -> Distillation.fit(teacherModel.model(), network, data.dataset(), opts, method.options()));
      stored = ModelStatements.weightSet(network.stateDict(), network.shapes());
      parameters = network.parameterCount();
    }
    Map<String, String> properties = new LinkedHashMap<>(ModelVariants.structureOf(student));
    properties.put("student", student.name());
    properties.put("temperature", Double.toString(method.options().temperature()));
    properties.put("alpha", Double.toString(method.options().alpha()));
    return new Variant(student.definition(), stored, parameters, properties, student, opts.epochs(),
        history.getLast().loss());
  }

  /** What a fine-tuning run left: the weights, its epochs and its last training loss. */
  private record Trained(Map<String, float[]> state, int epochs, double lastLoss) {}

  private Trained finetune(ModelInfo source, NetworkSpec spec, Map<String, float[]> state, PruningMask mask,
      SqlNode query, TrainOptions opts, Execution execution) throws SQLException {
    try (ModelInputs data = labelled(query, source, execution);
        Network network = Network.build(spec, opts.seed())) {
      network.loadStateDict(state);
      execution.report(new Execution.Progress("fine-tuning", source.name(), 0, opts.epochs(), 0, 0, Double.NaN, 0,
          Double.NaN));
      List<CompressionTrainer.Epoch> history = withThreads(opts.threads(), () -> CompressionTrainer.fit(network,
          data.dataset(), opts, CompressionTrainer.crossEntropy(opts), mask));
      return new Trained(network.stateDict(), opts.epochs(), history.getLast().loss());
    }
  }

  /** Runs {@code body} with {@code threads} kernel threads (0: as configured), as TRAIN does. */
  private static <T> T withThreads(int threads, Supplier<T> body) {
    int previous = Parallel.get().threads();
    if (threads > 0) {
      Parallel.setThreads(threads);
    }
    try {
      return body.get();
    } finally {
      if (threads > 0) {
        Parallel.setThreads(previous);
      }
    }
  }

  // ---- data ----

  private ModelInputs labelled(SqlNode query, ModelInfo model, Execution execution) throws SQLException {
    ModelInputs data = session.modelInputs(query, model, execution, statement);
    if (data.size() == 0) {
      data.close();
      throw new UserException(statement + ": the training query returned no rows");
    }
    return data;
  }

  private ModelInputs unlabelled(SqlNode query, ModelInfo model, Execution execution) throws SQLException {
    String table = ModelInputs.plainTableScan(query, catalog(), List.of(model.inputName()));
    if (table != null) {
      return ModelInputs.loadTable(catalog(), table, model, false, execution, statement);
    }
    try (Session.QueryRun run = session.openQuery(query, execution)) {
      return ModelInputs.load(run, model, false, false, execution, statement);
    }
  }
}
