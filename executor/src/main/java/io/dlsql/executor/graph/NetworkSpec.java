package io.dlsql.executor.graph;

import io.dlsql.catalog.UserException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A network as a DAG of named {@link Node}s in an order where every node comes after its inputs,
 * fed by one image input of per-sample shape {@code inputShape} (C, H, W) and ending in the node
 * {@code outputName}, whose output has {@code classes} values (the logits). The constructor
 * checks everything, shape inference included, so a {@code NetworkSpec} that exists is valid.
 */
public record NetworkSpec(
    String inputName, int[] inputShape, int classes, List<Node> nodes, String outputName) {

  public NetworkSpec {
    Objects.requireNonNull(inputName, "inputName");
    inputShape = inputShape.clone();
    nodes = List.copyOf(nodes);
    Objects.requireNonNull(outputName, "outputName");
    if (inputShape.length == 0 || Arrays.stream(inputShape).anyMatch(d -> d <= 0)) {
      throw new UserException(
          "input " + inputName + " needs a shape of positive sizes, got " + Arrays.toString(inputShape));
    }
    if (classes < 2) {
      throw new UserException("a model needs at least 2 classes, got " + classes);
    }
    if (nodes.isEmpty()) {
      throw new UserException("a model needs at least one layer");
    }
    inferShapes(inputName, inputShape, classes, nodes, outputName);
  }

  /** The per-sample output shape of every node, and of the input, by name, in order. */
  public LinkedHashMap<String, int[]> shapes() {
    return inferShapes(inputName, inputShape, classes, nodes, outputName);
  }

  /** The typed attributes of every node, in node order. */
  public List<LayerSpec> layerSpecs() {
    List<LayerSpec> out = new ArrayList<>(nodes.size());
    for (int i = 0; i < nodes.size(); i++) {
      out.add(LayerSpec.parse(nodes.get(i), i + 1));
    }
    return out;
  }

  /** Position of the node with this name (0-based), or -1 for the input. */
  public int indexOf(String name) {
    if (name.equals(inputName)) {
      return -1;
    }
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i).name().equals(name)) {
        return i;
      }
    }
    throw new IllegalArgumentException("no node " + name);
  }

  private static LinkedHashMap<String, int[]> inferShapes(
      String inputName, int[] inputShape, int classes, List<Node> nodes, String outputName) {
    LinkedHashMap<String, int[]> shapes = new LinkedHashMap<>();
    shapes.put(inputName, inputShape.clone());
    Map<String, Integer> position = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      Node node = nodes.get(i);
      String where = LayerSpec.where(i + 1, node.op());
      if (shapes.containsKey(node.name())) {
        throw new UserException(where + ": the name " + node.name() + " is already used");
      }
      int arity = node.inputs().size();
      if (arity < node.op().minInputs() || arity > node.op().maxInputs()) {
        throw new UserException(
            where + ": takes " + (node.op().minInputs() == node.op().maxInputs()
                ? "exactly " + node.op().minInputs()
                : "at least " + node.op().minInputs())
                + " input(s), got " + arity);
      }
      List<int[]> in = new ArrayList<>(arity);
      for (String src : node.inputs()) {
        int[] s = shapes.get(src);
        if (s == null) {
          throw new UserException(
              where + ": unknown input " + src + "; it must name the input or an earlier layer");
        }
        in.add(s);
      }
      LayerSpec spec = LayerSpec.parse(node, i + 1);
      shapes.put(node.name(), spec.outputShape(in, where));
      position.put(node.name(), i + 1);
    }
    int[] out = shapes.get(outputName);
    if (out == null || outputName.equals(inputName)) {
      throw new UserException("the output " + outputName + " is not a layer of the model");
    }
    long values = Arrays.stream(out).asLongStream().reduce(1, (a, b) -> a * b);
    if (values != classes) {
      Node last = nodes.get(position.get(outputName) - 1);
      throw new UserException(
          "the output layer " + position.get(outputName) + " (" + last.op().sqlName() + ") produces "
              + Attrs.shape(out) + " = " + values + " values but the model has " + classes
              + " classes; end the model with DENSE(" + classes + ")");
    }
    return shapes;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NetworkSpec s
        && inputName.equals(s.inputName)
        && Arrays.equals(inputShape, s.inputShape)
        && classes == s.classes
        && nodes.equals(s.nodes)
        && outputName.equals(s.outputName);
  }

  @Override
  public int hashCode() {
    return Objects.hash(inputName, Arrays.hashCode(inputShape), classes, nodes, outputName);
  }

  @Override
  public String toString() {
    return "NetworkSpec[input=" + inputName + Arrays.toString(inputShape) + ", classes=" + classes
        + ", nodes=" + nodes + ", output=" + outputName + "]";
  }
}
