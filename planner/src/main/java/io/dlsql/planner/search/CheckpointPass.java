package io.dlsql.planner.search;

import io.dlsql.catalog.UserException;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.PlannerSettings.Checkpointing;
import io.dlsql.planner.checkpoint.CheckpointPlanner;
import io.dlsql.planner.checkpoint.CheckpointSchedule;
import io.dlsql.planner.checkpoint.Segment;
import io.dlsql.planner.checkpoint.StageModel;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.Residency;
import java.util.ArrayList;
import java.util.List;

/**
 * Pass {@code checkpointing}: for training under {@code memory_limit}, the stages whose
 * activations are recomputed in backward instead of kept ({@link CheckpointPlanner}), or with
 * {@code SET checkpointing = sqrt} Chen et al.'s baseline (with or without a limit). Marks every
 * operator kept, recomputed or checkpoint and attaches the {@link CheckpointSchedule}.
 */
public final class CheckpointPass implements PlanPass {
  @Override
  public String name() {
    return "checkpointing";
  }

  @Override
  public boolean enabled(PlanRequest request) {
    Checkpointing c = request.settings().checkpointing();
    return request.mode() == Mode.TRAIN
        && (c == Checkpointing.SQRT || (c == Checkpointing.OPTIMAL && request.memoryLimitBytes() > 0));
  }

  @Override
  public PhysicalPlan apply(PhysicalPlan plan, PlanContext context) {
    StageModel model = StageModel.of(plan, context.cost());
    long limit = plan.request().memoryLimitBytes();
    boolean sqrt = plan.request().settings().checkpointing() == Checkpointing.SQRT;
    List<Segment> segments = sqrt ? model.sqrtSegments() : CheckpointPlanner.optimal(model, limit);
    StageModel.Evaluation eval = model.evaluate(segments);
    if (sqrt && limit > 0 && eval.peakBytes() > limit) {
      throw new UserException("sqrt checkpointing needs " + CheckpointPlanner.formatBytes(eval.peakBytes())
          + ", above memory_limit " + CheckpointPlanner.formatBytes(limit)
          + "; SET checkpointing = optimal to fit the limit");
    }
    List<PlanNode> nodes = new ArrayList<>(plan.nodes());
    List<Integer> checkpoints = new ArrayList<>();
    for (Segment seg : segments) {
      for (int s = seg.first(); s <= seg.last(); s++) {
        StageModel.Stage stage = model.stages().get(s);
        for (int j : stage.nodes()) {
          PlanNode.Operator op = plan.operator(j);
          Residency r = seg.recomputed() ? Residency.RECOMPUTED : op.residency();
          nodes.set(op.id(), op.withResidency(r));
        }
      }
      int start = model.stages().get(seg.first()).inputTensor();
      if (seg.recomputed() && start > 0) {
        checkpoints.add(start);
        PlanNode.Operator producer = plan.operator(start - 1);
        nodes.set(producer.id(), ((PlanNode.Operator) nodes.get(producer.id())).withResidency(Residency.CHECKPOINT));
      }
    }
    CheckpointSchedule schedule = new CheckpointSchedule(sqrt ? "sqrt" : "optimal", segments, checkpoints,
        eval.peakBytes(), eval.recomputeNanos(), eval.recomputeFlops());
    return plan.withCheckpoints(nodes, schedule);
  }
}
