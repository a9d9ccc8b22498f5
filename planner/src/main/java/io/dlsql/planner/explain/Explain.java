package io.dlsql.planner.explain;

import io.dlsql.planner.Mode;
import io.dlsql.planner.checkpoint.CheckpointPlanner;
import io.dlsql.planner.checkpoint.CheckpointSchedule;
import io.dlsql.planner.checkpoint.Segment;
import io.dlsql.planner.checkpoint.StageModel;
import io.dlsql.planner.cost.PlanCost;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.physical.FusionGroup;
import io.dlsql.planner.physical.PassReport;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.Residency;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * EXPLAIN of a costed physical plan: {@link #rows} for JDBC (one per stage, operator, conversion
 * and pass, then the totals) and {@link #render} for the shell, an indented tree of the same
 * rows. Operators are grouped under the stages of the graph (the parts between articulation
 * points: a layer in a chain, a block in a ResNet).
 */
public final class Explain {
  private static final double NANOS_PER_MS = 1e6;

  private Explain() {}

  /** The rows of EXPLAIN for {@code plan} (which must be costed). */
  public static List<ExplainRow> rows(PhysicalPlan plan) {
    PlanCost cost = plan.cost();
    if (cost == null) {
      throw new IllegalStateException("EXPLAIN needs a costed plan");
    }
    LogicalPlan logical = plan.logical();
    List<ExplainRow> rows = new ArrayList<>();
    rows.add(new ExplainRow(ExplainRow.Kind.PLAN, -1, 0, plan.request().mode().name(),
        logical.spec().outputName(), "", "", "", "", "", "", 0, cost.stepNanos() / NANOS_PER_MS,
        cost.peakBytes()));
    List<Integer> boundaries = StageModel.boundaries(plan);
    int nextNode = 1;
    for (int s = 0; s + 1 < boundaries.size(); s++) {
      int lastLogical = boundaries.get(s + 1) - 1;
      int lastId = plan.operator(lastLogical).id();
      List<ExplainRow> members = new ArrayList<>();
      double stageNanos = 0;
      long stageBytes = 0;
      for (int id = nextNode; id <= lastId; id++) {
        PlanNode n = plan.nodes().get(id);
        PlanCost.NodeCost c = cost.nodes().get(id);
        stageNanos += c.totalNanos();
        stageBytes += c.memoryBytes();
        members.add(row(plan, n, c));
      }
      nextNode = lastId + 1;
      rows.add(new ExplainRow(ExplainRow.Kind.STAGE, s, 1, "STAGE", "stage " + s, "", "", "", "", "",
          stageResidency(plan, s), 0, stageNanos / NANOS_PER_MS, stageBytes));
      rows.addAll(members);
    }
    for (PassReport p : plan.passes()) {
      rows.add(new ExplainRow(ExplainRow.Kind.PASS, -1, 1, "PASS", p.name(), "", "", "", "", "",
          p.enabled() ? "on" : "off", 0, p.nanos() / NANOS_PER_MS, 0));
    }
    rows.add(total("time per batch", cost.stepNanos() / NANOS_PER_MS, 0));
    if (cost.epochNanos() >= 0) {
      rows.add(total("time per epoch", cost.epochNanos() / NANOS_PER_MS, 0));
    }
    rows.add(total("peak memory", 0, cost.peakBytes()));
    rows.add(total("persistent memory", 0, cost.persistentBytes()));
    CheckpointSchedule schedule = plan.checkpoints();
    if (schedule != null) {
      rows.add(total("recompute (" + schedule.method() + ", " + schedule.recomputedStages() + " stages)",
          schedule.recomputeNanos() / NANOS_PER_MS, 0));
    }
    return rows;
  }

  private static String stageResidency(PhysicalPlan plan, int stage) {
    if (plan.request().mode() == Mode.INFER) {
      return Residency.NOT_SAVED.label();
    }
    CheckpointSchedule schedule = plan.checkpoints();
    if (schedule == null) {
      return Residency.KEPT.label();
    }
    for (Segment seg : schedule.segments()) {
      if (stage >= seg.first() && stage <= seg.last()) {
        return seg.recomputed() ? Residency.RECOMPUTED.label() : Residency.KEPT.label();
      }
    }
    throw new IllegalStateException("stage " + stage + " is in no segment");
  }

  private static ExplainRow total(String name, double ms, long bytes) {
    return new ExplainRow(ExplainRow.Kind.TOTAL, -1, 0, "TOTAL", name, "", "", "", "", "", "", 0, ms, bytes);
  }

  private static ExplainRow row(PhysicalPlan plan, PlanNode n, PlanCost.NodeCost c) {
    double ms = c.totalNanos() / NANOS_PER_MS;
    return switch (n) {
      case PlanNode.Input in -> throw new IllegalStateException("the input is not inside a stage");
      case PlanNode.Conversion conv -> new ExplainRow(ExplainRow.Kind.CONVERSION, conv.id(), 2, "CONVERT",
          "", "reorder", conv.from().sqlName() + "->" + conv.to().sqlName(), "", "", "", "", conv.threads(),
          ms, c.memoryBytes());
      case PlanNode.Operator op -> {
        StringBuilder conversions = new StringBuilder();
        for (int in : op.inputs()) {
          if (plan.nodes().get(in) instanceof PlanNode.Conversion conv) {
            conversions.append(conversions.isEmpty() ? "" : ", ").append('#').append(conv.id()).append(' ')
                .append(conv.from().sqlName()).append("->").append(conv.to().sqlName());
          }
        }
        String fusion = "";
        int depth = 2;
        if (op.fusionGroup() >= 0) {
          FusionGroup g = plan.fusionGroup(op.fusionGroup());
          fusion = g.label();
          depth = g.members().get(0) == op.id() ? 2 : 3;
        }
        yield new ExplainRow(ExplainRow.Kind.OPERATOR, op.id(), depth, op.logical().op().sqlName(),
            op.logical().name(), op.implementation().name(), op.layout().sqlName(), conversions.toString(),
            fusion, op.precision().name().toLowerCase(Locale.ROOT), op.residency().label(), op.threads(), ms,
            c.memoryBytes());
      }
    };
  }

  /**
   * The rows as an indented tree, one line per row. With {@code timings} false, pass run times
   * are left out so the text depends only on the plan (golden files).
   */
  public static String render(List<ExplainRow> rows, boolean timings) {
    StringBuilder b = new StringBuilder();
    for (ExplainRow r : rows) {
      b.append("  ".repeat(r.depth()));
      switch (r.kind()) {
        case PLAN -> b.append(r.operator()).append(" plan of ").append(r.name())
            .append(": ").append(ms(r.estimatedMs())).append(" per batch, peak ").append(bytes(r.estimatedBytes()));
        case STAGE -> b.append(r.name()).append(" [").append(r.residency()).append("] ")
            .append(ms(r.estimatedMs())).append(", ").append(bytes(r.estimatedBytes()));
        case OPERATOR -> {
          b.append('#').append(r.id()).append(' ').append(r.operator()).append(' ').append(r.name())
              .append(" algorithm=").append(r.algorithm()).append(" layout=").append(r.layout());
          if (!r.conversions().isEmpty()) {
            b.append(" after=[").append(r.conversions()).append(']');
          }
          if (!r.fusion().isEmpty()) {
            b.append(" fused=").append(r.fusion());
          }
          b.append(' ').append(r.precision()).append(" threads=").append(r.threads())
              .append(" saved=").append(r.residency()).append(" time=").append(ms(r.estimatedMs()))
              .append(" memory=").append(bytes(r.estimatedBytes()));
        }
        case CONVERSION -> b.append('#').append(r.id()).append(" CONVERT ").append(r.layout())
            .append(" threads=").append(r.threads()).append(" time=").append(ms(r.estimatedMs()))
            .append(" memory=").append(bytes(r.estimatedBytes()));
        case PASS -> {
          b.append("pass ").append(r.name()).append(' ').append(r.residency());
          if (timings && r.residency().equals("on")) {
            b.append(' ').append(ms(r.estimatedMs()));
          }
        }
        case TOTAL -> {
          b.append(r.name()).append(": ");
          b.append(r.estimatedBytes() > 0 ? bytes(r.estimatedBytes()) : ms(r.estimatedMs()));
        }
      }
      b.append('\n');
    }
    return b.toString();
  }

  private static String ms(double ms) {
    return String.format(Locale.ROOT, "%.3f ms", ms);
  }

  private static String bytes(long b) {
    return CheckpointPlanner.formatBytes(b);
  }
}
