package io.dlsql.planner;

import io.dlsql.executor.graph.Network;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Layer;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts a physical plan's choices into an executor {@link Network}: today the convolution
 * algorithm of each layer, the choice the executor can take per layer. Returns the choices it
 * could not apply (layouts, fusion and checkpointing the executor does not run yet), so EXPLAIN
 * ANALYZE can say what was measured.
 */
public final class PlanBinding {
  private PlanBinding() {}

  /** Applies what the executor supports; returns a description of each choice left out. */
  public static List<String> apply(PhysicalPlan plan, Network network) {
    Map<String, Layer> layers = new HashMap<>();
    for (Layer layer : network.layers()) {
      layers.put(layer.name(), layer);
    }
    List<String> notApplied = new ArrayList<>();
    for (PlanNode.Operator op : plan.operators()) {
      String algorithm = op.implementation().executorAlgorithm();
      Layer layer = layers.get(op.logical().name());
      if (algorithm == null || !(layer instanceof Conv2d conv)) {
        continue;
      }
      boolean known = Arrays.stream(Conv2d.Algorithm.values()).anyMatch(a -> a.name().equals(algorithm));
      if (known) {
        conv.setAlgorithm(Conv2d.Algorithm.valueOf(algorithm));
      } else {
        notApplied.add(op.logical().name() + ": algorithm " + algorithm);
      }
    }
    return notApplied;
  }
}
