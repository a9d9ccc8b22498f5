package io.dlsql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.planner.checkpoint.CheckpointPlanner;
import io.dlsql.planner.checkpoint.Segment;
import io.dlsql.planner.checkpoint.StageModel;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.Residency;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Activation checkpointing on ResNet-56: the optimal schedule against Chen et al.'s sqrt(n), limits, errors. */
class CheckpointTest {
  static final int BATCH = 128;
  static final NetworkSpec RESNET56 =
      Architectures.build("resnet", Map.of("depth", 56), new int[] {1, 28, 28}, 10);
  static final MachineProfile MACHINE = MachineProfile.nominal();

  private static PhysicalPlan plan(long limit, Map<String, String> settings) {
    return Planner.forExecutor().plan(RESNET56, PlanRequest.train(BATCH, limit, 0, settings), MACHINE,
        TuningRecords.empty());
  }

  private static StageModel model() {
    PhysicalPlan unlimited = plan(0, Map.of());
    return StageModel.of(unlimited, new CostModel(MACHINE, TuningRecords.empty()));
  }

  @Test
  void resnetStagesAreBlocks() {
    StageModel m = model();
    // stem conv+bn, relu (fused with bn), 27 blocks, pooling, dense: every block is one stage.
    long blocks = m.stages().stream().filter(s -> s.nodes().size() >= 7).count();
    assertEquals(27, blocks);
  }

  @Test
  void optimalRecomputesLessThanSqrtAtTheSameLimit() {
    StageModel m = model();
    StageModel.Evaluation sqrt = m.evaluate(m.sqrtSegments());
    List<Segment> optimal = CheckpointPlanner.optimal(m, sqrt.peakBytes());
    StageModel.Evaluation best = m.evaluate(optimal);
    assertTrue(best.peakBytes() <= sqrt.peakBytes());
    assertTrue(best.recomputeNanos() < sqrt.recomputeNanos(),
        "optimal " + best.recomputeNanos() + " vs sqrt " + sqrt.recomputeNanos());
    assertTrue(best.recomputeFlops() < sqrt.recomputeFlops());
  }

  @Test
  void aThirdOfThePeakFitsWithLessThanOneExtraForward() {
    StageModel m = model();
    long full = m.evaluate(m.storeAll()).peakBytes();
    long limit = full / 3;
    PhysicalPlan p = plan(limit, Map.of());
    assertTrue(p.cost().peakBytes() <= limit, p.cost().peakBytes() + " > " + limit);
    assertTrue(p.checkpoints().recomputedStages() > 0);
    double forward = 0;
    for (StageModel.Stage s : m.stages()) {
      forward += s.forwardNanos();
    }
    assertTrue(p.checkpoints().recomputeNanos() <= forward);
    assertTrue(p.operators().stream().anyMatch(o -> o.residency() == Residency.RECOMPUTED));
    assertTrue(p.operators().stream().anyMatch(o -> o.residency() == Residency.CHECKPOINT));
  }

  @Test
  void recomputationFallsAsTheLimitRises() {
    StageModel m = model();
    long full = m.evaluate(m.storeAll()).peakBytes();
    long least = CheckpointPlanner.minimumPeak(m);
    assertTrue(least < full / 3, least + " vs " + full);
    double previous = Double.MAX_VALUE;
    List<Double> seen = new ArrayList<>();
    for (double f : new double[] {0.0, 0.25, 0.5, 0.75, 1.0}) {
      long limit = least + (long) (f * (full - least));
      StageModel.Evaluation e = m.evaluate(CheckpointPlanner.optimal(m, limit));
      assertTrue(e.peakBytes() <= limit);
      assertTrue(e.recomputeNanos() <= previous);
      previous = e.recomputeNanos();
      seen.add(e.recomputeNanos());
    }
    assertEquals(0, previous, "at the full peak nothing is recomputed: " + seen);
  }

  @Test
  void optimalIsExactOnSmallChains() {
    // Brute force over every schedule of the convnet's stages agrees with the DP.
    PhysicalPlan p = Planner.forExecutor().plan(
        Architectures.build("convnet", Map.of(), new int[] {1, 28, 28}, 10),
        PlanRequest.train(BATCH, 0, 0, Map.of()), MACHINE, TuningRecords.empty());
    StageModel m = StageModel.of(p, new CostModel(MACHINE, TuningRecords.empty()));
    long full = m.evaluate(m.storeAll()).peakBytes();
    long least = CheckpointPlanner.minimumPeak(m);
    for (long limit = least; limit <= full; limit += Math.max(1, (full - least) / 7)) {
      double best = Double.MAX_VALUE;
      for (List<Segment> s : allSchedules(0, m.stages().size())) {
        StageModel.Evaluation e = m.evaluate(s);
        if (e.peakBytes() <= limit) {
          best = Math.min(best, e.recomputeNanos());
        }
      }
      assertEquals(best, m.evaluate(CheckpointPlanner.optimal(m, limit)).recomputeNanos(), 1e-6);
    }
  }

  private static List<List<Segment>> allSchedules(int from, int n) {
    List<List<Segment>> out = new ArrayList<>();
    if (from == n) {
      out.add(new ArrayList<>());
      return out;
    }
    for (List<Segment> rest : allSchedules(from + 1, n)) {
      List<Segment> s = new ArrayList<>();
      s.add(new Segment(from, from, false));
      s.addAll(rest);
      out.add(s);
    }
    for (int last = from; last < n; last++) {
      for (List<Segment> rest : allSchedules(last + 1, n)) {
        List<Segment> s = new ArrayList<>();
        s.add(new Segment(from, last, true));
        s.addAll(rest);
        out.add(s);
      }
    }
    return out;
  }

  @Test
  void aLimitBelowTheMinimumStatesTheMinimum() {
    long least = CheckpointPlanner.minimumPeak(model());
    UserException e = assertThrows(UserException.class, () -> plan(least - 1, Map.of()));
    assertTrue(e.getMessage().contains("(" + least + " bytes"), e.getMessage());
    assertTrue(plan(least, Map.of()).cost().peakBytes() <= least);
  }

  @Test
  void checkpointingOffWithALimitBelowThePeakIsAnError() {
    UserException e = assertThrows(UserException.class,
        () -> plan(50L << 20, Map.of("checkpointing", "off")));
    assertTrue(e.getMessage().contains("checkpointing is off"), e.getMessage());
  }

  @Test
  void sqrtSettingUsesTheBaseline() {
    PhysicalPlan p = plan(0, Map.of("checkpointing", "sqrt"));
    assertEquals("sqrt", p.checkpoints().method());
    StageModel m = model();
    assertEquals(m.sqrtSegments(), p.checkpoints().segments());
    for (PlanNode.Operator op : p.operators()) {
      assertTrue(op.residency() != Residency.KEPT || !p.checkpoints().segments().isEmpty());
    }
  }
}
