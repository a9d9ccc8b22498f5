package io.dlsql.planner.physical;

import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.logical.LogicalNode;
import java.util.List;

/**
 * A node of a {@link PhysicalPlan}: the network input, an operator with every physical choice
 * made, or a layout conversion inserted between two operators (an enforcer, costed like any
 * other node). Nodes are numbered by their position in the plan's schedule and refer to their
 * inputs by those numbers.
 */
public sealed interface PlanNode {
  /** Position in the schedule. */
  int id();

  /** Per-sample shape of what the node writes. */
  int[] shape();

  /** Layout of what the node writes. */
  TensorLayout layout();

  /** Plan nodes read by this one. */
  List<Integer> inputs();

  /** The network input, in the layout the data arrives in. */
  record Input(int id, String name, int[] shape, TensorLayout layout) implements PlanNode {
    @Override
    public List<Integer> inputs() {
      return List.of();
    }
  }

  /**
   * One logical node computed by {@code implementation} in its layouts, at {@code precision} on
   * {@code threads} threads, as a member of fusion group {@code fusionGroup} (-1 for none), with
   * what its forward saves {@code residency}.
   */
  record Operator(
      int id,
      LogicalNode logical,
      List<Integer> inputs,
      Implementation implementation,
      Precision precision,
      int threads,
      int fusionGroup,
      Residency residency)
      implements PlanNode {
    public Operator {
      inputs = List.copyOf(inputs);
    }

    @Override
    public int[] shape() {
      return logical.outputShape();
    }

    @Override
    public TensorLayout layout() {
      return implementation.outputLayoutFor(logical.outputShape());
    }

    public Operator withImplementation(Implementation i, List<Integer> newInputs, int newId) {
      return new Operator(newId, logical, newInputs, i, precision, threads, fusionGroup, residency);
    }

    public Operator withThreads(int t) {
      return new Operator(id, logical, inputs, implementation, precision, t, fusionGroup, residency);
    }

    public Operator withPrecision(Precision p) {
      return new Operator(id, logical, inputs, implementation, p, threads, fusionGroup, residency);
    }

    public Operator withFusionGroup(int group) {
      return new Operator(id, logical, inputs, implementation, precision, threads, group, residency);
    }

    public Operator withResidency(Residency r) {
      return new Operator(id, logical, inputs, implementation, precision, threads, fusionGroup, r);
    }
  }

  /** Rewrites tensor {@code input} from layout {@code from} to {@code to}. */
  record Conversion(int id, int input, int[] shape, TensorLayout from, TensorLayout to, int threads)
      implements PlanNode {
    @Override
    public TensorLayout layout() {
      return to;
    }

    @Override
    public List<Integer> inputs() {
      return List.of(input);
    }

    public Conversion withThreads(int t) {
      return new Conversion(id, input, shape, from, to, t);
    }
  }
}
