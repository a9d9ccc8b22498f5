package io.dlsql.planner;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.Op;
import io.dlsql.executor.graph.RecomputeSchedule;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Layer;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.planner.checkpoint.CheckpointSchedule;
import io.dlsql.planner.checkpoint.Segment;
import io.dlsql.planner.checkpoint.StageModel;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts a physical plan's choices into an executor {@link Network}: each node's layout (the
 * network inserts the conversions wherever neighbours differ, as the plan's conversion nodes do),
 * the convolution algorithm of each layer, which producers compute the ReLU after them and, in
 * inference, which convolutions fold the batchnorm after them (the plan's fusion groups) and, for
 * training, the checkpoint schedule (which nodes are recomputed in backward). Returns the choices
 * it could not apply, so EXPLAIN ANALYZE can say what was measured.
 */
public final class PlanBinding {
  private PlanBinding() {}

  /**
   * The executor's form of a plan's checkpoint schedule: each recomputed run of stages as the run
   * of nodes it covers (stage {@code s} is the nodes between boundary tensors {@code b_s} and
   * {@code b_s+1}, tensor {@code t} being node {@code t-1}'s output). No schedule, or an inference
   * plan: nothing recomputed.
   */
  public static RecomputeSchedule recomputeSchedule(PhysicalPlan plan) {
    CheckpointSchedule schedule = plan.checkpoints();
    if (schedule == null || plan.request().mode() != Mode.TRAIN) {
      return RecomputeSchedule.NONE;
    }
    List<Integer> boundaries = StageModel.boundaries(plan);
    List<RecomputeSchedule.Segment> runs = new ArrayList<>();
    for (Segment seg : schedule.segments()) {
      if (seg.recomputed()) {
        runs.add(new RecomputeSchedule.Segment(boundaries.get(seg.first()), boundaries.get(seg.last() + 1) - 1));
      }
    }
    return new RecomputeSchedule(runs);
  }

  /** Applies what the executor supports; returns a description of each choice left out. */
  public static List<String> apply(PhysicalPlan plan, Network network) {
    network.setRecomputeSchedule(recomputeSchedule(plan));
    Map<String, Layer> layers = new HashMap<>();
    for (Layer layer : network.layers()) {
      layers.put(layer.name(), layer);
    }
    List<String> notApplied = new ArrayList<>();
    for (PlanNode.Operator op : plan.operators()) {
      String name = op.logical().name();
      Layer layer = layers.get(name);
      if (layer == null) {
        continue;
      }
      // The layout a node reads images in (a flat-output reduction such as global pooling included).
      Layout layout = op.implementation().inputLayout().executorLayout();
      if (touchesImages(op) && layout != network.layout(name)) {
        network.chooseLayout(name, layout);
      }
      // The executor fuses a ReLU into its producer and, in evaluation, folds a batchnorm into the
      // convolution before it by default; the plan says whether it does. A training plan leaves
      // folding as it is: it applies only to the evaluation forwards (validation) such a plan
      // does not price.
      Op next = nextMemberOp(plan, op);
      boolean fuses = next == Op.RELU;
      Network.NodeChoice current = network.choice(name);
      boolean fold = plan.request().mode() == Mode.INFER && layer instanceof Conv2d
          ? next == Op.BATCHNORM2D : current.foldBatchNorm();
      if (current.fuseActivation() != fuses || current.foldBatchNorm() != fold) {
        network.choose(name, new Network.NodeChoice(current.algorithm(), fuses, fold));
      }
      String algorithm = op.implementation().executorAlgorithm();
      if (algorithm == null || !(layer instanceof Conv2d)) {
        continue;
      }
      boolean known = Arrays.stream(Conv2d.Algorithm.values()).anyMatch(a -> a.name().equals(algorithm));
      if (!known) {
        notApplied.add(name + ": algorithm " + algorithm);
        continue;
      }
      try {
        network.choose(name, network.choice(name).withAlgorithm(Conv2d.Algorithm.valueOf(algorithm)));
      } catch (UserException e) {
        notApplied.add(name + ": algorithm " + algorithm + " in " + layout);
      }
    }
    return notApplied;
  }

  /** The operator after {@code op} in its fusion group (what its kernel computes as well), or null. */
  private static Op nextMemberOp(PhysicalPlan plan, PlanNode.Operator op) {
    if (op.fusionGroup() < 0) {
      return null;
    }
    List<Integer> members = plan.fusionGroup(op.fusionGroup()).members();
    int at = members.indexOf(op.id());
    return at + 1 < members.size() ? ((PlanNode.Operator) plan.nodes().get(members.get(at + 1))).logical().op() : null;
  }

  private static boolean touchesImages(PlanNode.Operator op) {
    if (op.logical().outputShape().length == 3) {
      return true;
    }
    return op.logical().inputShapes().stream().anyMatch(shape -> shape.length == 3);
  }
}
