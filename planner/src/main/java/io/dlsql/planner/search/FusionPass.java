package io.dlsql.planner.search;

import io.dlsql.executor.graph.Op;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.cost.ActivationMemoryProvider;
import io.dlsql.planner.physical.FusionGroup;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Pass {@code fusion}: groups chains of operators into one kernel pass where the chosen
 * implementations allow it. A group starts at an operator whose implementation can run an
 * epilogue and grows while the next operator reads the previous one's output directly (same
 * layout, no conversion), is its only reader, and is an epilogue operator: an activation, a
 * residual add, inference dropout (the identity), or in inference a batchnorm right after a
 * convolution or dense layer (folded into its weights). In training a member's output that
 * backward needs must be written, which rules out fusing it.
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

  @Override
  public PhysicalPlan apply(PhysicalPlan plan, PlanContext context) {
    List<PlanNode> nodes = new ArrayList<>(plan.nodes());
    List<FusionGroup> groups = new ArrayList<>();
    List<PlanNode.Operator> chain = new ArrayList<>();
    for (PlanNode n : plan.nodes()) {
      if (!(n instanceof PlanNode.Operator op)) {
        continue;
      }
      if (!chain.isEmpty() && canFollow(plan, chain, op)) {
        chain.add(op);
        continue;
      }
      close(chain, nodes, groups);
      chain.clear();
      if (op.implementation().cost().fusesEpilogue()) {
        chain.add(op);
      }
    }
    close(chain, nodes, groups);
    return plan.withFusion(nodes, groups);
  }

  private static void close(List<PlanNode.Operator> chain, List<PlanNode> nodes, List<FusionGroup> groups) {
    if (chain.size() < 2) {
      return;
    }
    int id = groups.size();
    for (PlanNode.Operator member : chain) {
      nodes.set(member.id(), member.withFusionGroup(id));
    }
    groups.add(new FusionGroup(id, chain.stream().map(PlanNode.Operator::id).toList(),
        chain.stream().map(o -> o.logical().name()).collect(Collectors.joining("+"))));
  }

  private static boolean canFollow(PhysicalPlan plan, List<PlanNode.Operator> chain, PlanNode.Operator next) {
    PlanNode.Operator prev = chain.get(chain.size() - 1);
    PlanNode.Operator anchor = chain.get(0);
    Mode mode = plan.request().mode();
    if (next.inputs().get(0) != prev.id()
        || plan.logical().consumers(prev.logical().output()).size() != 1
        || prev.logical().output() == plan.logical().outputTensor()) {
      return false;
    }
    ActivationMemoryProvider activations = new ActivationMemoryProvider();
    int batch = plan.request().batchSize();
    if (activations.saved(prev.logical(), batch, mode).output()
        || activations.saved(next.logical(), batch, mode).input()) {
      return false;
    }
    Op op = next.logical().op();
    if (next.logical().activation() || op == Op.ADD) {
      return true;
    }
    if (op == Op.DROPOUT) {
      return mode == Mode.INFER;
    }
    return op == Op.BATCHNORM2D && mode == Mode.INFER && chain.size() == 1
        && (anchor.logical().op() == Op.CONV2D || anchor.logical().op() == Op.DENSE);
  }
}
