package io.dlsql.planner.cost;

import java.util.List;

/**
 * The estimated cost of a physical plan: per plan node (same order as the plan's nodes) and in
 * total for one batch, per epoch when the epoch size is known, and the peak memory.
 *
 * @param persistentBytes weights, gradients, optimizer state and the input batch: held all step
 * @param peakBytes the most bytes held at once during a step, persistent bytes included
 * @param recomputeFlops extra FLOPs of recomputed activations (0 without checkpointing)
 * @param epochNanos time of one epoch, or -1 when the request gives no epoch size
 */
public record PlanCost(
    List<NodeCost> nodes,
    double stepNanos,
    double epochNanos,
    long flops,
    long recomputeFlops,
    long persistentBytes,
    long peakBytes) {

  public PlanCost {
    nodes = List.copyOf(nodes);
  }

  /**
   * One plan node's estimates for one batch.
   *
   * @param forwardNanos forward (the conversion itself for a conversion node)
   * @param backwardNanos backward (0 for inference)
   * @param recomputeNanos forward run again in backward because its activations were dropped
   * @param memoryBytes its output when written, what it saves privately, and its peak workspace
   */
  public record NodeCost(
      double forwardNanos,
      double backwardNanos,
      double recomputeNanos,
      long flops,
      long bytesMoved,
      long memoryBytes) {
    public static final NodeCost ZERO = new NodeCost(0, 0, 0, 0, 0, 0);

    public double totalNanos() {
      return forwardNanos + backwardNanos + recomputeNanos;
    }
  }
}
