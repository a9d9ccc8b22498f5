package io.dlsql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Layer;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code SET layout = ...} really runs in that layout: binding a forced-layout plan puts every
 * image node of the network in the plan's layout with an algorithm of the executor's matrix, no
 * choice is left unapplied, and a training step runs.
 */
class PlanBindingLayoutTest {
  @ParameterizedTest
  @CsvSource({"convnet, nchwc", "resnet, nhwc", "mobilenet, nchwc", "mobilenet, nhwc"})
  void aForcedLayoutIsTheLayoutTheNetworkRuns(String arch, String layout) {
    NetworkSpec spec = Architectures.build(arch, arch.equals("resnet") ? Map.of("depth", 8) : Map.of(),
        new int[] {1, 12, 12}, 10);
    PhysicalPlan plan = Planner.forExecutor().plan(spec, PlanRequest.train(4, 0, 0, Map.of("layout", layout)),
        MachineProfile.nominal(), TuningRecords.empty());
    Layout expected = Layout.valueOf(layout.toUpperCase(java.util.Locale.ROOT));
    try (Network net = Network.build(spec, 1); Tensor x = Tensor.zeros(4, 1, 12, 12);
        Tensor grad = Tensor.zeros(4, 10)) {
      List<String> notApplied = PlanBinding.apply(plan, net);
      assertEquals(List.of(), notApplied);
      int convs = 0;
      for (PlanNode.Operator op : plan.operators()) {
        String name = op.logical().name();
        if (op.logical().outputShape().length == 3) {
          assertEquals(op.implementation().inputLayout().executorLayout(), net.layout(name), name);
        }
      }
      for (Layer layer : net.layers()) {
        if (layer instanceof Conv2d c) {
          assertEquals(expected, net.layout(c.name()), c.name());
          assertTrue(Conv2d.supports(c.algorithm(), expected, c.geometry()), c.name() + " " + c.algorithm());
          convs++;
        }
      }
      assertTrue(convs > 0);
      Tensor logits = net.forward(x, true);
      new SoftmaxCrossEntropy(0).forward(logits, new int[] {0, 1, 2, 3}, 4, grad);
      net.backward(grad);
    }
  }
}
