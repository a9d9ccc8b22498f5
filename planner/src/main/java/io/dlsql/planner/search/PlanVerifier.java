package io.dlsql.planner.search;

import io.dlsql.planner.Mode;
import io.dlsql.planner.cost.ActivationMemoryProvider;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.physical.FusionGroup;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.Residency;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks that a physical plan is well formed: nodes numbered by position with inputs before
 * them, one operator per logical node in logical order, every operator's implementation from the
 * registry and able to compute it, every input arriving in the layout its implementation reads
 * (through explicit conversions), fusion groups that are chains of sole readers whose
 * intermediates nothing saves, sane threads, and residencies that match the mode and schedule.
 * A violation is a planner bug: {@link IllegalStateException}.
 */
public final class PlanVerifier {
  private PlanVerifier() {}

  public static void verify(PhysicalPlan plan, KernelRegistry registry) {
    List<PlanNode> nodes = plan.nodes();
    if (nodes.isEmpty() || !(nodes.get(0) instanceof PlanNode.Input)) {
      throw new IllegalStateException("a plan starts with its input node");
    }
    Set<Integer> groups = new HashSet<>();
    plan.fusionGroups().forEach(g -> groups.add(g.id()));
    int nextLogical = 0;
    for (int i = 0; i < nodes.size(); i++) {
      PlanNode n = nodes.get(i);
      if (n.id() != i) {
        throw new IllegalStateException("node at position " + i + " has id " + n.id());
      }
      for (int in : n.inputs()) {
        if (in < 0 || in >= i) {
          throw new IllegalStateException("node " + i + " reads node " + in + ", which does not come before it");
        }
      }
      switch (n) {
        case PlanNode.Input in -> {
          if (i != 0) {
            throw new IllegalStateException("a second input node at " + i);
          }
        }
        case PlanNode.Conversion c -> {
          PlanNode src = nodes.get(c.input());
          if (src.layout() != c.from() || c.from() == c.to() || !c.to().admits(c.shape())) {
            throw new IllegalStateException("conversion " + i + " from " + c.from() + " to " + c.to()
                + " reads a " + src.layout() + " tensor");
          }
          if (c.threads() < 1) {
            throw new IllegalStateException("conversion " + i + " has " + c.threads() + " threads");
          }
        }
        case PlanNode.Operator op -> {
          if (op.logical().index() != nextLogical) {
            throw new IllegalStateException("operator " + i + " computes logical node "
                + op.logical().index() + ", expected " + nextLogical);
          }
          nextLogical++;
          verifyOperator(plan, registry, op, groups);
        }
      }
    }
    if (nextLogical != plan.logical().nodes().size()) {
      throw new IllegalStateException("the plan computes " + nextLogical + " of "
          + plan.logical().nodes().size() + " logical nodes");
    }
    for (FusionGroup g : plan.fusionGroups()) {
      verifyGroup(plan, g);
    }
  }

  private static void verifyOperator(PhysicalPlan plan, KernelRegistry registry, PlanNode.Operator op,
      Set<Integer> groups) {
    String where = "operator " + op.id() + " (" + op.logical().name() + ")";
    if (!registry.implementations().contains(op.implementation())) {
      throw new IllegalStateException(where + " uses " + op.implementation().key() + ", not in the registry");
    }
    if (!op.implementation().canCompute(op.logical())) {
      throw new IllegalStateException(where + ": " + op.implementation().key() + " cannot compute it");
    }
    if (op.inputs().size() != op.logical().inputs().size()) {
      throw new IllegalStateException(where + " has " + op.inputs().size() + " inputs");
    }
    for (int slot = 0; slot < op.inputs().size(); slot++) {
      int tensor = tensorOf(plan, op.inputs().get(slot));
      if (tensor != op.logical().inputs().get(slot)) {
        throw new IllegalStateException(where + " input " + slot + " reads tensor " + tensor
            + " instead of " + op.logical().inputs().get(slot));
      }
      PlanNode src = plan.nodes().get(op.inputs().get(slot));
      if (src.layout() != op.implementation().inputLayoutFor(src.shape())) {
        throw new IllegalStateException(where + " reads " + src.layout() + " but "
            + op.implementation().key() + " needs " + op.implementation().inputLayoutFor(src.shape()));
      }
    }
    if (op.threads() < 1) {
      throw new IllegalStateException(where + " has " + op.threads() + " threads");
    }
    if (op.fusionGroup() >= 0 && !groups.contains(op.fusionGroup())) {
      throw new IllegalStateException(where + " is in fusion group " + op.fusionGroup() + ", which does not exist");
    }
    boolean training = plan.request().mode() == Mode.TRAIN;
    if (!training && op.residency() != Residency.NOT_SAVED) {
      throw new IllegalStateException(where + " is " + op.residency() + " in an inference plan");
    }
    if (plan.checkpoints() == null
        && (op.residency() == Residency.RECOMPUTED || op.residency() == Residency.CHECKPOINT)) {
      throw new IllegalStateException(where + " is " + op.residency() + " without a checkpoint schedule");
    }
  }

  private static void verifyGroup(PhysicalPlan plan, FusionGroup g) {
    List<Integer> members = g.members();
    ActivationMemoryProvider activations = new ActivationMemoryProvider();
    Mode mode = plan.request().mode();
    int batch = plan.request().batchSize();
    for (int k = 0; k < members.size(); k++) {
      if (!(plan.nodes().get(members.get(k)) instanceof PlanNode.Operator op) || op.fusionGroup() != g.id()) {
        throw new IllegalStateException("fusion group " + g.id() + " member " + members.get(k)
            + " is not an operator of the group");
      }
      if (k == 0) {
        if (!op.implementation().cost().fusesEpilogue()) {
          throw new IllegalStateException("fusion group " + g.id() + " anchor " + op.logical().name()
              + " cannot run an epilogue");
        }
        continue;
      }
      PlanNode.Operator prev = (PlanNode.Operator) plan.nodes().get(members.get(k - 1));
      if (op.threads() != prev.threads()) {
        throw new IllegalStateException("fusion group " + g.id() + " runs on " + prev.threads() + " and "
            + op.threads() + " threads");
      }
      if (op.inputs().get(0) != prev.id()
          || plan.logical().consumers(prev.logical().output()).size() != 1) {
        throw new IllegalStateException("fusion group " + g.id() + ": " + op.logical().name()
            + " is not the sole reader of " + prev.logical().name());
      }
      if (activations.saved(prev.logical(), batch, mode).output()
          || activations.saved(op.logical(), batch, mode).input()) {
        throw new IllegalStateException("fusion group " + g.id() + ": backward needs "
            + prev.logical().name() + "'s output, which the group does not write");
      }
    }
  }

  /** The logical tensor a plan node holds (conversions hold their source's). */
  static int tensorOf(PhysicalPlan plan, int id) {
    return switch (plan.nodes().get(id)) {
      case PlanNode.Input in -> 0;
      case PlanNode.Operator op -> op.logical().output();
      case PlanNode.Conversion c -> tensorOf(plan, c.input());
    };
  }
}
