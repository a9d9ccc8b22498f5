package io.dlsql.planner.search;

import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Pass {@code threads}: gives every node the thread count, among those the machine profile
 * measured, with the least estimated time; small nodes stay on one thread, where handing chunks
 * to the pool would cost more than it saves. {@code SET threads = n} puts every node on n.
 */
public final class ThreadsPass implements PlanPass {
  @Override
  public String name() {
    return "threads";
  }

  @Override
  public boolean enabled(PlanRequest request) {
    return true;
  }

  @Override
  public PhysicalPlan apply(PhysicalPlan plan, PlanContext context) {
    CostModel cost = context.cost();
    List<PlanNode> nodes = new ArrayList<>(plan.nodes());
    PhysicalPlan current = plan;
    for (int i = 0; i < nodes.size(); i++) {
      PlanNode n = nodes.get(i);
      if (n instanceof PlanNode.Conversion c) {
        nodes.set(i, c.withThreads(context.settings().threads().orElse(cost.machine().maxThreads())));
        continue;
      }
      if (!(n instanceof PlanNode.Operator op)) {
        continue;
      }
      if (op.fusionGroup() >= 0 && current.fusionGroup(op.fusionGroup()).members().get(0) != op.id()) {
        continue; // set with its group's first member
      }
      List<Integer> members = op.fusionGroup() >= 0
          ? current.fusionGroup(op.fusionGroup()).members()
          : List.of(op.id());
      int best;
      if (context.settings().threads().isPresent()) {
        best = context.settings().threads().getAsInt();
      } else {
        best = 1;
        double bestNanos = Double.MAX_VALUE;
        for (int t : cost.machine().byThreads().keySet()) {
          double nanos = 0;
          for (int m : members) {
            PlanNode.Operator candidate = ((PlanNode.Operator) current.nodes().get(m)).withThreads(t);
            nanos += cost.forwardNanos(current, candidate) + cost.backwardNanos(current, candidate);
          }
          if (nanos < bestNanos) {
            bestNanos = nanos;
            best = t;
          }
        }
      }
      // A fusion group is one kernel: all its members share the thread count.
      for (int m : members) {
        nodes.set(m, ((PlanNode.Operator) current.nodes().get(m)).withThreads(best));
      }
    }
    return plan.withNodes(nodes);
  }
}
