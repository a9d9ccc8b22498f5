package io.dlsql.planner.search;

import io.dlsql.executor.graph.Op;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.physical.FusionGroup;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Pass {@code fusion}: groups operators that run as one kernel pass, exactly where the executor
 * fuses them ({@code Network}), so estimated and measured times are of the same kernels:
 *
 * <ul>
 *   <li>a convolution, batchnorm, residual add or dense layer whose only reader is a ReLU in the
 *       same layout, not the network output, computes the ReLU in its output loop (training and
 *       inference);
 *   <li>in inference a convolution whose only reader is a batchnorm in the same layout folds it
 *       into its weights and bias ({@code Network.NodeChoice.foldBatchNorm}, the executor's default
 *       for evaluation), and computes that batchnorm's ReLU too when the batchnorm absorbs one:
 *       the group {@code conv+bn+relu} is one convolution writing one output.
 * </ul>
 *
 * No add is fused into a convolution (the executor does not). {@code PlanBinding} gives the
 * executor these choices, and turns its fusion and folding off where this pass does not run
 * ({@code fusion = off}).
 */
public final class FusionPass implements PlanPass {
  @Override
  public String name() {
    return "fusion";
  }

  @Override
  public boolean enabled(PlanRequest request) {
    return request.settings().fusionOn();
  }

  /** Producers whose layer computes a following ReLU in its output loop. */
  private static final Set<Op> RELU_PRODUCERS = EnumSet.of(Op.CONV2D, Op.BATCHNORM2D, Op.ADD, Op.DENSE);

  @Override
  public PhysicalPlan apply(PhysicalPlan plan, PlanContext context) {
    List<PlanNode> nodes = new ArrayList<>(plan.nodes());
    List<FusionGroup> groups = new ArrayList<>();
    List<PlanNode.Operator> ops = plan.operators();
    boolean inference = plan.request().mode() == Mode.INFER;
    for (int i = 0; i < ops.size(); i++) {
      List<PlanNode.Operator> members = new ArrayList<>(List.of(ops.get(i)));
      if (inference && i + 1 < ops.size() && folds(plan, ops.get(i), ops.get(i + 1))) {
        members.add(ops.get(i + 1));
      }
      int next = i + members.size();
      if (next < ops.size() && absorbs(plan, members.getLast(), ops.get(next))) {
        members.add(ops.get(next));
      }
      if (members.size() < 2) {
        continue;
      }
      int id = groups.size();
      for (PlanNode.Operator m : members) {
        nodes.set(m.id(), m.withFusionGroup(id));
      }
      groups.add(new FusionGroup(id, members.stream().map(PlanNode::id).toList(),
          members.stream().map(m -> m.logical().name()).collect(Collectors.joining("+"))));
      i += members.size() - 1;
    }
    return plan.withFusion(nodes, groups);
  }

  /** Whether {@code producer}'s kernel computes the ReLU {@code next} (the executor's rule). */
  private static boolean absorbs(PhysicalPlan plan, PlanNode.Operator producer, PlanNode.Operator next) {
    return next.logical().op() == Op.RELU
        && RELU_PRODUCERS.contains(producer.logical().op())
        && next.inputs().size() == 1
        && next.inputs().get(0) == producer.id()
        && plan.logical().consumers(producer.logical().output()).size() == 1
        && producer.logical().output() != plan.logical().outputTensor();
  }

  /**
   * Whether convolution {@code conv} folds batchnorm {@code next} in evaluation (the executor's
   * rule): the batchnorm is its only reader, reads it without a conversion (same layout) and
   * normalises images.
   */
  private static boolean folds(PhysicalPlan plan, PlanNode.Operator conv, PlanNode.Operator next) {
    return conv.logical().op() == Op.CONV2D
        && next.logical().op() == Op.BATCHNORM2D
        && next.inputs().size() == 1
        && next.inputs().get(0) == conv.id()
        && plan.logical().consumers(conv.logical().output()).size() == 1
        && next.logical().outputShape().length == 3;
  }
}
