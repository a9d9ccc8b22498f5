package io.dlsql.planner.logical;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The logical layer graph of a model: the nodes of a {@link NetworkSpec} with resolved inputs,
 * shapes and consumers. Tensors are numbered: 0 is the network input, {@code i + 1} is node
 * {@code i}'s output; nodes are in topological order, so a node only reads smaller tensors.
 */
public final class LogicalPlan {
  private final NetworkSpec spec;
  private final List<LogicalNode> nodes;
  private final List<int[]> tensorShapes;
  private final List<List<Integer>> consumers;
  private final int outputTensor;

  private LogicalPlan(NetworkSpec spec) {
    this.spec = spec;
    LinkedHashMap<String, int[]> shapes = spec.shapes();
    List<LayerSpec> specs = spec.layerSpecs();
    List<LogicalNode> list = new ArrayList<>();
    List<int[]> tensors = new ArrayList<>();
    tensors.add(spec.inputShape());
    List<List<Integer>> users = new ArrayList<>();
    users.add(new ArrayList<>());
    for (int i = 0; i < spec.nodes().size(); i++) {
      Node node = spec.nodes().get(i);
      List<Integer> inputs = new ArrayList<>();
      List<int[]> inShapes = new ArrayList<>();
      for (String src : node.inputs()) {
        int tensor = spec.indexOf(src) + 1;
        inputs.add(tensor);
        inShapes.add(shapes.get(src));
        users.get(tensor).add(i);
      }
      ConvGeometry geometry = specs.get(i) instanceof LayerSpec.Conv2d c
          ? c.geometry(inShapes.get(0), LayerSpec.where(i + 1, node.op()))
          : null;
      int[] out = shapes.get(node.name());
      list.add(new LogicalNode(i, node.name(), node.op(), specs.get(i), inputs, inShapes, out, geometry));
      tensors.add(out);
      users.add(new ArrayList<>());
    }
    this.nodes = List.copyOf(list);
    this.tensorShapes = List.copyOf(tensors);
    this.consumers = users.stream().map(List::copyOf).toList();
    this.outputTensor = spec.indexOf(spec.outputName()) + 1;
  }

  /** The logical plan of a (valid) network spec. */
  public static LogicalPlan of(NetworkSpec spec) {
    return new LogicalPlan(spec);
  }

  public NetworkSpec spec() {
    return spec;
  }

  public List<LogicalNode> nodes() {
    return nodes;
  }

  public LogicalNode node(int index) {
    return nodes.get(index);
  }

  /** Number of tensors: the input and one per node. */
  public int tensorCount() {
    return tensorShapes.size();
  }

  /** Per-sample shape of tensor {@code t}. */
  public int[] shape(int tensor) {
    return tensorShapes.get(tensor);
  }

  /** Nodes that read tensor {@code t}, in order. */
  public List<Integer> consumers(int tensor) {
    return consumers.get(tensor);
  }

  /** The tensor holding the logits. */
  public int outputTensor() {
    return outputTensor;
  }

  /**
   * The boundaries of the graph's stages: tensors that every path from the input to the output
   * passes through (articulation points), in order, starting with the input. A tensor {@code b}
   * is one when no node after {@code b}'s producer reads a tensor before {@code b}; the graph
   * between two consecutive boundaries is a stage, and a chain has one stage per node.
   */
  public List<Integer> stageBoundaries() {
    List<Integer> out = new ArrayList<>();
    out.add(0);
    // reach[t]: the largest tensor written by a node that reads t; an edge crosses b when it
    // reads a tensor before b and writes one after b.
    int crossing = 0;
    for (int b = 1; b < tensorCount(); b++) {
      for (int consumer : consumers(b - 1)) {
        crossing = Math.max(crossing, consumer + 1);
      }
      if (crossing <= b) {
        out.add(b);
      }
    }
    if (out.get(out.size() - 1) != tensorCount() - 1) {
      out.add(tensorCount() - 1);
    }
    return out;
  }
}
