package io.dlsql.planner.kernel;

import io.dlsql.executor.graph.Op;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.physical.TensorLayout;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;

/**
 * One way to compute one or more operators: a lowering of a logical operator, not a new
 * operator. It reads image inputs in {@code inputLayout} and writes {@code outputLayout} (flat
 * tensors are always {@link TensorLayout#NCHW}); {@code applies} says which nodes it can compute;
 * {@code executorAlgorithm} names the executor's {@code Conv2d.Algorithm} constant it runs as
 * (null for operators with one executor kernel).
 *
 * @param name the name EXPLAIN shows and {@code SET conv_algorithm} takes
 */
public record Implementation(
    String name,
    Set<Op> ops,
    TensorLayout inputLayout,
    TensorLayout outputLayout,
    Predicate<LogicalNode> applies,
    String executorAlgorithm,
    CostInputs cost) {

  public Implementation {
    name = name.toLowerCase(Locale.ROOT);
    ops = Set.copyOf(ops);
  }

  /** Whether this implementation can compute {@code node}, shapes and layouts included. */
  public boolean canCompute(LogicalNode node) {
    if (!ops.contains(node.op())) {
      return false;
    }
    for (int[] in : node.inputShapes()) {
      if (!inputLayout.admits(in)) {
        return false;
      }
    }
    return outputLayout.admits(node.outputShape()) && applies.test(node);
  }

  /** The layout this implementation expects input {@code shape} in (flat inputs are NCHW). */
  public TensorLayout inputLayoutFor(int[] shape) {
    return shape.length == 3 ? inputLayout : TensorLayout.NCHW;
  }

  /** The layout this implementation writes an output of {@code shape} in. */
  public TensorLayout outputLayoutFor(int[] shape) {
    return shape.length == 3 ? outputLayout : TensorLayout.NCHW;
  }

  /** Name and layout, unique within a registry: {@code im2col/nchw}. */
  public String key() {
    return name + "/" + inputLayout.sqlName();
  }
}
