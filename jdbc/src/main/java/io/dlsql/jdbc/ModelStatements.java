package io.dlsql.jdbc;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.ModelStatus;
import io.dlsql.catalog.NDArray;
import io.dlsql.catalog.UserException;
import io.dlsql.catalog.WeightSet;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.NetworkSpecBuilder;
import io.dlsql.executor.graph.Node;
import io.dlsql.parser.SqlArchitecture;
import io.dlsql.parser.SqlCreateModel;
import io.dlsql.parser.SqlDescribeModel;
import io.dlsql.parser.SqlDropModel;
import io.dlsql.parser.SqlLayer;
import io.dlsql.parser.SqlModelInput;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.type.SqlTypeName;

/** CREATE MODEL, DROP MODEL, SHOW MODELS and DESCRIBE MODEL; and loading a model to run it. */
final class ModelStatements {
  /** The seed used to initialise weights when a model is created (TRAIN re-initialises from its own seed). */
  static final long DEFINITION_SEED = 0;

  private final Session session;

  ModelStatements(Session session) {
    this.session = session;
  }

  private Catalog catalog() {
    return session.catalog();
  }

  static String modelName(SqlIdentifier id) {
    if (!id.isSimple()) {
      throw new UserException("model names have one part, got '" + id + "'");
    }
    return id.getSimple().toLowerCase(Locale.ROOT);
  }

  Session.Outcome create(SqlCreateModel create, String sql) {
    String name = modelName(create.name());
    boolean exists = catalog().model(name).isPresent();
    if (exists && create.ifNotExists()) {
      return new Session.Outcome.Update(0);
    }
    if (exists && !create.replace()) {
      throw new UserException("model '" + name + "' already exists (use CREATE OR REPLACE MODEL to replace it)");
    }
    if (catalog().table(name).isPresent()) {
      throw new UserException("'" + name + "' is already the name of a table");
    }
    List<String> dependants = exists ? dependants(name) : List.of();
    if (!dependants.isEmpty()) {
      // Replacing would leave the variants naming a parent they were not derived from.
      throw new UserException("model '" + name + "' has variants derived from it (" + String.join(", ", dependants)
          + "); DROP MODEL " + name + " CASCADE before replacing it");
    }
    NetworkSpec spec = spec(create);
    long parameters;
    try (Network network = Network.build(spec, DEFINITION_SEED)) {
      parameters = network.parameterCount();
    }
    ModelInfo info = ModelInfo.builder(name)
        .definition(sql)
        .statement(sql)
        .status(ModelStatus.DEFINED)
        .inputName(spec.inputName())
        .inputDims(spec.inputShape())
        .labelColumn(create.output().map(ModelStatements::modelName).orElse("label"))
        .classes(spec.classes())
        .parameterCount(parameters)
        .build();
    catalog().createModel(info, create.replace());
    catalog().deleteCheckpoint(name);
    return new Session.Outcome.Update(0);
  }

  /** The network a CREATE MODEL statement defines; every layer and shape is checked here. */
  static NetworkSpec spec(SqlCreateModel create) {
    List<SqlModelInput> inputs = create.inputs();
    if (inputs.size() != 1) {
      throw new UserException("a model takes exactly one INPUT column, got " + inputs.size());
    }
    SqlModelInput input = inputs.get(0);
    int[] dims = TableStatements.tensorType(input.tensorType()).dims();
    if (create.classes().isEmpty()) {
      throw new UserException("the model needs its number of classes: ... OUTPUT label CLASSES n");
    }
    int classes = create.classes().getAsInt();
    if (classes < 2) {
      throw new UserException("CLASSES must be at least 2, got " + classes);
    }
    if (create.architecture().isPresent()) {
      SqlArchitecture arch = create.architecture().get();
      NetworkSpec spec = Architectures.build(arch.name().toLowerCase(Locale.ROOT), arch.arguments().named(), dims, classes);
      return new NetworkSpec(input.name(), spec.inputShape(), spec.classes(), spec.nodes(), spec.outputName());
    }
    NetworkSpecBuilder builder = new NetworkSpecBuilder();
    builder.input(input.name(), dims);
    for (SqlLayer layer : create.layers()) {
      List<Object> positional = new ArrayList<>();
      for (Object value : layer.positional()) {
        positional.add(value instanceof SqlIdentifier id ? id.getSimple().toLowerCase(Locale.ROOT) : value);
      }
      Map<String, Object> named = new LinkedHashMap<>();
      layer.named().forEach((k, v) -> named.put(k, v instanceof SqlIdentifier id ? id.getSimple().toLowerCase(Locale.ROOT) : v));
      builder.layer(layer.kind(), positional, named, layer.alias().map(a -> a.getSimple().toLowerCase(Locale.ROOT)).orElse(null));
    }
    return builder.build(classes);
  }

  /** The stored model of that name, or a clear error. */
  ModelInfo model(String name) {
    return catalog().model(name).orElseThrow(() -> new UserException("model '" + name + "' does not exist"));
  }

  /**
   * The network a stored model is: its definition's, with the layer sizes a structured pruning
   * changed (see {@link ModelVariants#applyStructure}).
   */
  static NetworkSpec spec(ModelInfo info) throws SQLException {
    return ModelVariants.applyStructure(definitionSpec(info), info.properties());
  }

  /** The network of a stored model's CREATE MODEL text alone. */
  static NetworkSpec definitionSpec(ModelInfo info) throws SQLException {
    if (!(Session.parse(info.definition()) instanceof SqlCreateModel create)) {
      throw new IllegalStateException("model '" + info.name() + "' has a definition that is not CREATE MODEL");
    }
    return spec(create);
  }

  /** The fp32 state a weight set stands for, compressed forms decoded (see {@link ModelVariants#floatState}). */
  static Map<String, float[]> floats(WeightSet weights) {
    return ModelVariants.floatState(weights);
  }

  static WeightSet weightSet(Map<String, float[]> tensors, Map<String, int[]> shapes) {
    WeightSet set = WeightSet.empty();
    for (var e : tensors.entrySet()) {
      int[] shape = shapes.getOrDefault(e.getKey(), new int[] {e.getValue().length});
      set = set.with(e.getKey(), NDArray.ofFloats(shape, e.getValue()));
    }
    return set;
  }

  /**
   * DROP MODEL. A model that variants name as their parent is kept unless CASCADE, as a database
   * keeps a table that views depend on (RESTRICT); with CASCADE its variants, and theirs, are
   * dropped first, leaves first, so after each step every remaining variant's parent exists.
   */
  Session.Outcome drop(SqlDropModel drop) {
    String name = modelName(drop.name());
    List<String> dependants = catalog().model(name).map(m -> dependants(m.name())).orElse(List.of());
    if (!dependants.isEmpty() && !drop.cascade()) {
      throw new UserException("model '" + name + "' has variants derived from it (" + String.join(", ", dependants)
          + "); drop them first, or DROP MODEL " + name + " CASCADE to drop them with it");
    }
    for (String variant : dependants) {
      catalog().dropModel(variant, true);
      catalog().deleteCheckpoint(variant);
    }
    if (!catalog().dropModel(name, drop.ifExists()) && !drop.ifExists()) {
      throw new UserException("model '" + name + "' does not exist");
    }
    catalog().deleteCheckpoint(name);
    return new Session.Outcome.Update(0);
  }

  /** The models derived from {@code name}, directly or through other variants, deepest first. */
  private List<String> dependants(String name) {
    Map<String, List<String>> children = new HashMap<>();
    for (ModelInfo m : catalog().models()) {
      if (m.parent() != null) {
        children.computeIfAbsent(m.parent(), k -> new ArrayList<>()).add(m.name());
      }
    }
    List<String> out = new ArrayList<>();
    collectDependants(name, children, out, new HashSet<>());
    return out;
  }

  private static void collectDependants(String name, Map<String, List<String>> children, List<String> out,
      Set<String> seen) {
    for (String child : children.getOrDefault(name, List.of())) {
      if (seen.add(child)) {
        collectDependants(child, children, out, seen);
        out.add(child);
      }
    }
  }

  ResultRows show() {
    ResultRows.Builder rows = ResultRows.builder()
        .column("name", SqlTypeName.VARCHAR)
        .column("kind", SqlTypeName.VARCHAR)
        .column("status", SqlTypeName.VARCHAR)
        .column("parameters", SqlTypeName.BIGINT)
        .column("epochs_trained", SqlTypeName.INTEGER)
        .column("accuracy", SqlTypeName.DOUBLE)
        .column("parent", SqlTypeName.VARCHAR);
    for (ModelInfo m : catalog().models()) {
      rows.row(m.name(), m.kind(), m.status().name(), m.parameterCount(), m.epochsTrained(), m.accuracy(), m.parent());
    }
    return rows.build();
  }

  ResultRows describe(SqlDescribeModel describe) throws SQLException {
    ModelInfo info = model(modelName(describe.model()));
    NetworkSpec spec = spec(info);
    Map<String, int[]> shapes = spec.shapes();
    Map<String, Long> parameters = new LinkedHashMap<>();
    try (Network network = Network.build(spec, DEFINITION_SEED)) {
      for (var p : network.parameters()) {
        String node = p.name().substring(0, p.name().lastIndexOf('.'));
        parameters.merge(node, Arrays.stream(p.value().shape()).asLongStream().reduce(1, (a, b) -> a * b), Long::sum);
      }
    }
    ResultRows.Builder rows = ResultRows.builder()
        .column("position", SqlTypeName.INTEGER)
        .column("layer", SqlTypeName.VARCHAR)
        .column("kind", SqlTypeName.VARCHAR)
        .column("inputs", SqlTypeName.VARCHAR)
        .column("output_shape", SqlTypeName.VARCHAR)
        .column("parameters", SqlTypeName.BIGINT)
        .column("attributes", SqlTypeName.VARCHAR);
    rows.row(0, spec.inputName(), "INPUT", "", shapeText(spec.inputShape()), 0L, "");
    int position = 1;
    for (Node node : spec.nodes()) {
      rows.row(position++, node.name(), node.op().name(), String.join(", ", node.inputs()),
          shapeText(shapes.get(node.name())), parameters.getOrDefault(node.name(), 0L), attributes(node.attrs()));
    }
    return rows.build();
  }

  private static String shapeText(int[] shape) {
    if (shape == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(shape[i]);
    }
    return sb.append(")").toString();
  }

  /** Attributes in name order, so the text is the same whatever map the spec holds them in. */
  private static String attributes(Map<String, Object> attrs) {
    StringBuilder sb = new StringBuilder();
    new java.util.TreeMap<>(attrs).forEach((k, v) -> {
      if (!sb.isEmpty()) {
        sb.append(", ");
      }
      sb.append(k).append('=').append(v instanceof int[] a ? Arrays.toString(a) : String.valueOf(v));
    });
    return sb.toString();
  }
}
