package io.dlsql.planner.search;

import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Pass {@code threads}: gives the plan the thread count, among those the machine profile
 * measured, with the least estimated step time. It is one count for every node because the
 * executor runs every kernel on one pool of that size. Where ANALYZE MODEL measured kernels, only
 * the counts it measured at are compared, so measured times never compete with roofline ones.
 * {@code SET threads = n} puts the plan on n.
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
    int best;
    if (context.settings().threads().isPresent()) {
      best = context.settings().threads().getAsInt();
    } else {
      SortedSet<Integer> counts = new TreeSet<>(cost.machine().byThreads().keySet());
      SortedSet<Integer> measured = new TreeSet<>(cost.tuning().measuredThreadCounts());
      measured.retainAll(counts);
      if (!measured.isEmpty()) {
        counts = measured;
      }
      best = counts.last();
      double bestNanos = Double.MAX_VALUE;
      for (int t : counts) {
        PhysicalPlan candidate = withThreads(plan, t);
        double nanos = 0;
        for (PlanNode.Operator op : candidate.operators()) {
          nanos += cost.forwardNanos(candidate, op) + cost.backwardNanos(candidate, op);
        }
        if (nanos < bestNanos) {
          bestNanos = nanos;
          best = t;
        }
      }
    }
    return withThreads(plan, best);
  }

  private static PhysicalPlan withThreads(PhysicalPlan plan, int threads) {
    List<PlanNode> nodes = new ArrayList<>(plan.nodes());
    for (int i = 0; i < nodes.size(); i++) {
      switch (nodes.get(i)) {
        case PlanNode.Conversion c -> nodes.set(i, c.withThreads(threads));
        case PlanNode.Operator op -> nodes.set(i, op.withThreads(threads));
        case PlanNode.Input in -> { }
      }
    }
    return plan.withNodes(nodes);
  }
}
