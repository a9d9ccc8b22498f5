package io.dlsql.planner.physical;

import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.checkpoint.CheckpointSchedule;
import io.dlsql.planner.cost.PlanCost;
import io.dlsql.planner.logical.LogicalPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * A network's physical plan: the schedule of {@link PlanNode}s with every choice explicit, the
 * fusion groups, the checkpoint schedule of a training plan under a memory limit (null
 * otherwise), the passes that produced it and, once costed, its {@link PlanCost}. Immutable;
 * passes return new plans.
 */
public record PhysicalPlan(
    LogicalPlan logical,
    PlanRequest request,
    List<PlanNode> nodes,
    List<FusionGroup> fusionGroups,
    CheckpointSchedule checkpoints,
    List<PassReport> passes,
    PlanCost cost) {

  public PhysicalPlan {
    nodes = List.copyOf(nodes);
    fusionGroups = List.copyOf(fusionGroups);
    passes = List.copyOf(passes);
  }

  public PhysicalPlan withNodes(List<PlanNode> newNodes) {
    return new PhysicalPlan(logical, request, newNodes, fusionGroups, checkpoints, passes, null);
  }

  public PhysicalPlan withFusion(List<PlanNode> newNodes, List<FusionGroup> groups) {
    return new PhysicalPlan(logical, request, newNodes, groups, checkpoints, passes, null);
  }

  public PhysicalPlan withCheckpoints(List<PlanNode> newNodes, CheckpointSchedule schedule) {
    return new PhysicalPlan(logical, request, newNodes, fusionGroups, schedule, passes, null);
  }

  public PhysicalPlan withPass(PassReport report) {
    List<PassReport> all = new ArrayList<>(passes);
    all.add(report);
    return new PhysicalPlan(logical, request, nodes, fusionGroups, checkpoints, all, cost);
  }

  public PhysicalPlan withCost(PlanCost c) {
    return new PhysicalPlan(logical, request, nodes, fusionGroups, checkpoints, passes, c);
  }

  /** The operators, in schedule order. */
  public List<PlanNode.Operator> operators() {
    List<PlanNode.Operator> out = new ArrayList<>();
    for (PlanNode n : nodes) {
      if (n instanceof PlanNode.Operator o) {
        out.add(o);
      }
    }
    return out;
  }

  /** The operator computing logical node {@code index}. */
  public PlanNode.Operator operator(int logicalIndex) {
    for (PlanNode n : nodes) {
      if (n instanceof PlanNode.Operator o && o.logical().index() == logicalIndex) {
        return o;
      }
    }
    throw new IllegalStateException("no operator for logical node " + logicalIndex);
  }

  /** The plan node holding logical tensor {@code t} as its producer wrote it (the input node for 0). */
  public PlanNode producer(int tensor) {
    return tensor == 0 ? nodes.get(0) : operator(tensor - 1);
  }

  /** The fusion group with this id. */
  public FusionGroup fusionGroup(int id) {
    for (FusionGroup g : fusionGroups) {
      if (g.id() == id) {
        return g;
      }
    }
    throw new IllegalStateException("no fusion group " + id);
  }
}
