package io.dlsql.planner.logical;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.Op;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import java.util.List;

/**
 * One layer of a {@link LogicalPlan}: node {@code index} reads tensors {@code inputs} and writes
 * tensor {@code index + 1} (tensor 0 is the network input). Shapes are per sample; {@code
 * geometry} is set for convolutions only.
 */
public record LogicalNode(
    int index,
    String name,
    Op op,
    LayerSpec spec,
    List<Integer> inputs,
    List<int[]> inputShapes,
    int[] outputShape,
    ConvGeometry geometry) {

  public LogicalNode {
    inputs = List.copyOf(inputs);
    inputShapes = List.copyOf(inputShapes);
  }

  /** The tensor this node writes. */
  public int output() {
    return index + 1;
  }

  /** Elements per sample of the output. */
  public long outputNumel() {
    return Shapes.numel(outputShape);
  }

  /** Elements per sample of input {@code slot}. */
  public long inputNumel(int slot) {
    return Shapes.numel(inputShapes.get(slot));
  }

  /** Whether the op is elementwise over its (first) input: activations, batchnorm, dropout, add. */
  public boolean elementwise() {
    return switch (op) {
      case RELU, LEAKY_RELU, SIGMOID, TANH, BATCHNORM2D, DROPOUT, ADD -> true;
      default -> false;
    };
  }

  /** Whether the op is an activation function. */
  public boolean activation() {
    return switch (op) {
      case RELU, LEAKY_RELU, SIGMOID, TANH -> true;
      default -> false;
    };
  }
}
