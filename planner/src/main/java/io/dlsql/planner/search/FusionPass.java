package io.dlsql.planner.search;

import io.dlsql.executor.graph.Op;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.physical.FusionGroup;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Pass {@code fusion}: groups an operator with the ReLU that alone reads its output into one
 * kernel pass, exactly where the executor fuses ({@code Network}: a convolution, batchnorm,
 * residual add or dense layer whose only reader is a ReLU in the same layout, not the network
 * output, computes the ReLU in its output loop, in training and inference alike). The plan says
 * what the executor runs: it folds no batchnorm into a convolution (the executor does that only
 * when a caller opts in, {@code NodeChoice.foldBatchNorm}, which plans do not) and fuses no add
 * into a convolution, so estimated and measured times are of the same kernels.
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
    PlanNode.Operator previous = null;
    for (PlanNode n : plan.nodes()) {
      if (!(n instanceof PlanNode.Operator op)) {
        continue;
      }
      if (previous != null && absorbs(plan, previous, op)) {
        int id = groups.size();
        nodes.set(previous.id(), previous.withFusionGroup(id));
        nodes.set(op.id(), op.withFusionGroup(id));
        groups.add(new FusionGroup(id, List.of(previous.id(), op.id()),
            previous.logical().name() + "+" + op.logical().name()));
        previous = null;
        continue;
      }
      previous = op;
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
}
