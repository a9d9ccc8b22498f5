package io.dlsql.executor.graph;

import io.dlsql.catalog.UserException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns a SQL layer list ({@code INPUT image TENSOR(1, 28, 28), CONV2D(32, KERNEL 5), RELU AS a,
 * ..., ADD(a), ...}) into a {@link NetworkSpec}. Each layer reads the previous layer's output
 * unless it names another with the option {@code INPUT => alias}; {@code ADD(a, ...)} and {@code
 * CONCAT(a, ...)} combine the previous output with the named layers. Every mistake is a {@link
 * UserException} naming the layer by position and kind.
 *
 * <p>Positional arguments: CONV2D(out_channels [, kernel]), DENSE(units), MAXPOOL/AVGPOOL(kernel
 * [, stride]), DROPOUT(p), LEAKYRELU(slope), ADD/CONCAT(alias, ...). Named options are the
 * attribute names in any case: KERNEL, STRIDE, PADDING, DILATION, GROUPS, BIAS, EPS, MOMENTUM, P,
 * UNITS, SLOPE, OUT_CHANNELS, and INPUT.
 */
public final class NetworkSpecBuilder {
  /** The named option that picks a layer's input by alias. */
  public static final String INPUT_OPTION = "input";

  private static final Map<Op, List<String>> POSITIONAL = Map.ofEntries(
      Map.entry(Op.CONV2D, List.of("out_channels", "kernel")),
      Map.entry(Op.DENSE, List.of("units")),
      Map.entry(Op.MAXPOOL2D, List.of("kernel", "stride")),
      Map.entry(Op.AVGPOOL2D, List.of("kernel", "stride")),
      Map.entry(Op.DROPOUT, List.of("p")),
      Map.entry(Op.LEAKY_RELU, List.of("slope")));

  private static final Map<Op, String> NAME_PREFIX = Map.ofEntries(
      Map.entry(Op.CONV2D, "conv"), Map.entry(Op.BATCHNORM2D, "bn"), Map.entry(Op.RELU, "relu"),
      Map.entry(Op.LEAKY_RELU, "lrelu"), Map.entry(Op.SIGMOID, "sigmoid"), Map.entry(Op.TANH, "tanh"),
      Map.entry(Op.MAXPOOL2D, "maxpool"), Map.entry(Op.AVGPOOL2D, "avgpool"),
      Map.entry(Op.GLOBAL_AVGPOOL, "gap"), Map.entry(Op.DENSE, "dense"), Map.entry(Op.DROPOUT, "dropout"),
      Map.entry(Op.FLATTEN, "flatten"), Map.entry(Op.ADD, "add"), Map.entry(Op.CONCAT, "concat"));

  private String inputName;
  private int[] inputShape;
  private final List<Node> nodes = new ArrayList<>();
  private final Set<String> used = new HashSet<>();
  private final Map<String, Integer> counters = new HashMap<>();
  /** Aliases the user gave, lower-cased, to node names. */
  private final Map<String, String> aliases = new LinkedHashMap<>();

  /** The input column and its per-sample shape (C, H, W). */
  public NetworkSpecBuilder input(String name, int[] shape) {
    if (inputName != null) {
      throw new UserException("the model already has an input " + inputName);
    }
    if (shape == null || shape.length == 0) {
      throw new UserException("input " + name + " needs a shape such as TENSOR(1, 28, 28)");
    }
    for (int d : shape) {
      if (d <= 0) {
        throw new UserException("input " + name + " has a non-positive size in " + java.util.Arrays.toString(shape));
      }
    }
    inputName = name;
    inputShape = shape.clone();
    used.add(name.toLowerCase(Locale.ROOT));
    aliases.put(name.toLowerCase(Locale.ROOT), name);
    return this;
  }

  /**
   * Appends a layer. {@code kind} is a SQL layer keyword (case-insensitive); {@code positional}
   * and {@code named} are its arguments as the parser produced them (numbers, strings, booleans,
   * lists for tuples); {@code alias} (nullable) names it for later ADD/CONCAT/INPUT references.
   */
  public NetworkSpecBuilder layer(String kind, List<Object> positional, Map<String, Object> named, String alias) {
    if (inputName == null) {
      throw new UserException("the model needs its INPUT before the layers");
    }
    Op op = Op.parse(kind);
    int position = nodes.size() + 1;
    String where = LayerSpec.where(position, op);
    List<Object> args = positional == null ? List.of() : positional;
    Map<String, Object> attrs = new LinkedHashMap<>();
    List<String> inputs = new ArrayList<>();
    String source = null;
    if (named != null) {
      for (Map.Entry<String, Object> e : named.entrySet()) {
        String key = e.getKey().toLowerCase(Locale.ROOT);
        if (key.equals(INPUT_OPTION)) {
          if (!(e.getValue() instanceof String ref)) {
            throw new UserException(where + ": INPUT must name an earlier layer, got " + Attrs.describe(e.getValue()));
          }
          source = resolve(ref, where);
          continue;
        }
        if (attrs.put(key, e.getValue()) != null) {
          throw new UserException(where + ": option " + Attrs.upper(key) + " is given twice");
        }
      }
    }
    String previous = nodes.isEmpty() ? inputName : nodes.get(nodes.size() - 1).name();
    inputs.add(source != null ? source : previous);
    if (op == Op.ADD || op == Op.CONCAT) {
      if (args.isEmpty()) {
        throw new UserException(
            where + ": name the layer(s) to combine with the previous output, e.g. " + op.sqlName() + "(a)");
      }
      for (Object ref : args) {
        if (!(ref instanceof String s)) {
          throw new UserException(where + ": arguments must name earlier layers, got " + Attrs.describe(ref));
        }
        inputs.add(resolve(s, where));
      }
    } else {
      List<String> names = POSITIONAL.getOrDefault(op, List.of());
      if (args.size() > names.size()) {
        throw new UserException(where + ": takes " + (names.isEmpty()
            ? "no positional arguments"
            : "at most " + names.size() + " positional argument(s) (" + String.join(", ",
                names.stream().map(Attrs::upper).toList()) + ")")
            + ", got " + args.size());
      }
      for (int i = 0; i < args.size(); i++) {
        String key = names.get(i);
        if (attrs.containsKey(key)) {
          throw new UserException(where + ": " + Attrs.upper(key) + " is given both by position and by name");
        }
        attrs.put(key, args.get(i));
      }
    }
    String name;
    if (alias != null) {
      String lower = alias.toLowerCase(Locale.ROOT);
      if (used.contains(lower)) {
        throw new UserException(where + ": the name " + alias + " is already used");
      }
      name = alias;
      aliases.put(lower, alias);
    } else {
      name = autoName(op);
    }
    used.add(name.toLowerCase(Locale.ROOT));
    Node node = new Node(name, op, attrs, inputs);
    LayerSpec.parse(node, position);
    nodes.add(node);
    return this;
  }

  private String resolve(String ref, String where) {
    String name = aliases.get(ref.toLowerCase(Locale.ROOT));
    if (name == null) {
      throw new UserException(where + ": unknown alias " + ref + "; defined so far: "
          + String.join(", ", aliases.values()));
    }
    return name;
  }

  private String autoName(Op op) {
    String prefix = NAME_PREFIX.get(op);
    while (true) {
      int n = counters.merge(prefix, 1, Integer::sum);
      String candidate = prefix + n;
      if (!used.contains(candidate)) {
        return candidate;
      }
    }
  }

  /** The spec, checked (shapes inferred, last layer producing {@code classes} values). */
  public NetworkSpec build(int classes) {
    if (inputName == null) {
      throw new UserException("the model needs an INPUT");
    }
    if (nodes.isEmpty()) {
      throw new UserException("the model needs at least one layer");
    }
    return new NetworkSpec(inputName, inputShape, classes, nodes, nodes.get(nodes.size() - 1).name());
  }
}
