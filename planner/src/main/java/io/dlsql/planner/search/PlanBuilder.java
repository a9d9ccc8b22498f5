package io.dlsql.planner.search;

import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.cost.ActivationMemoryProvider;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.Precision;
import io.dlsql.planner.physical.Residency;
import io.dlsql.planner.physical.TensorLayout;
import io.dlsql.planner.kernel.KernelRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one implementation per logical node into plan nodes: operators in logical order, with a
 * conversion inserted before every reader that wants a tensor in another layout than it was
 * written in (one per reader, as the executor converts). New plans are fp32, unfused, on {@code threads}
 * threads, keeping in training whatever backward needs.
 */
public final class PlanBuilder {
  private PlanBuilder() {}

  /** The plan the executor would run without a planner: its default kernel per node, NCHW. */
  public static PhysicalPlan executorDefaults(LogicalPlan logical, PlanRequest request,
      KernelRegistry registry, int threads) {
    List<Implementation> choice = new ArrayList<>();
    for (LogicalNode node : logical.nodes()) {
      choice.add(registry.executorDefault(node));
    }
    List<PlanNode> nodes = build(logical, request, choice, threads);
    return new PhysicalPlan(logical, request, nodes, List.of(), null, List.of(), null);
  }

  /** Plan nodes for these choices, conversions included. */
  public static List<PlanNode> build(LogicalPlan logical, PlanRequest request, List<Implementation> choice,
      int threads) {
    List<PlanNode> nodes = new ArrayList<>();
    nodes.add(new PlanNode.Input(0, logical.spec().inputName(), logical.shape(0), TensorLayout.NCHW));
    // Per logical tensor, the plan node that writes it.
    Map<Integer, Integer> holders = new HashMap<>();
    holders.put(0, 0);
    ActivationMemoryProvider activations = new ActivationMemoryProvider();
    for (LogicalNode node : logical.nodes()) {
      Implementation impl = choice.get(node.index());
      List<Integer> inputs = new ArrayList<>();
      for (int slot = 0; slot < node.inputs().size(); slot++) {
        int tensor = node.inputs().get(slot);
        TensorLayout want = impl.inputLayoutFor(node.inputShapes().get(slot));
        int source = holders.get(tensor);
        PlanNode src = nodes.get(source);
        int id = source;
        if (src.layout() != want && src.shape().length == 3) {
          id = nodes.size();
          nodes.add(new PlanNode.Conversion(id, source, src.shape(), src.layout(), want, threads));
        }
        inputs.add(id);
      }
      int id = nodes.size();
      Residency residency = request.mode() == Mode.TRAIN
          && !activations.saved(node, request.batchSize(), Mode.TRAIN).equals(ActivationMemoryProvider.Saved.NOTHING)
          ? Residency.KEPT
          : Residency.NOT_SAVED;
      PlanNode.Operator op = new PlanNode.Operator(id, node, inputs, impl, Precision.FP32, threads, -1, residency);
      nodes.add(op);
      holders.put(node.output(), id);
    }
    return nodes;
  }
}
