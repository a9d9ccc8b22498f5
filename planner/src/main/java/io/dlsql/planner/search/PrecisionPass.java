package io.dlsql.planner.search;

import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Pass {@code precision}: the number format of every operator. Training and fp32 models compute
 * in fp32; bf16 and int8 arrive with compressed models and their kernels.
 */
public final class PrecisionPass implements PlanPass {
  @Override
  public String name() {
    return "precision";
  }

  @Override
  public boolean enabled(PlanRequest request) {
    return true;
  }

  @Override
  public PhysicalPlan apply(PhysicalPlan plan, PlanContext context) {
    List<PlanNode> nodes = new ArrayList<>(plan.nodes());
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i) instanceof PlanNode.Operator op) {
        nodes.set(i, op.withPrecision(context.settings().precision()));
      }
    }
    return plan.withNodes(nodes);
  }
}
