package io.dlsql.executor.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.NetworkSpecBuilder;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import io.dlsql.executor.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StructuredPruningTest {
  /**
   * Zeroes half the filters of every layer structured pruning would prune (and the batchnorm
   * shift right after them), so those channels output exactly zero: removing them must leave the
   * logits unchanged.
   */
  private static void assertRemovingDeadChannelsKeepsTheLogits(NetworkSpec spec, long seed) {
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, seed);
    StructuredPruning.Result probe = StructuredPruning.prune(spec, w, 0.5, MagnitudePruning.Scope.LAYER);
    LinkedHashMap<String, int[]> shapes = spec.shapes();
    for (String layer : probe.keptChannels().keySet()) {
      int channels = shapes.get(layer)[0];
      float[] weight = w.get(layer + ".weight");
      int per = weight.length / channels;
      int dead = Math.round(channels * 0.5f);
      for (int c = 0; c < dead; c++) {
        java.util.Arrays.fill(weight, c * per, (c + 1) * per, 0f);
        if (w.containsKey(layer + ".bias")) {
          w.get(layer + ".bias")[c] = 0;
        }
        for (Node n : spec.nodes()) {
          if (n.op() == Op.BATCHNORM2D && n.inputs().get(0).equals(layer)) {
            w.get(n.name() + ".bias")[c] = 0;
            w.get(n.name() + ".running_mean")[c] = 0;
          }
        }
      }
    }
    for (MagnitudePruning.Scope scope : MagnitudePruning.Scope.values()) {
      StructuredPruning.Result r = StructuredPruning.prune(spec, w, 0.5, scope);
      long before = ModelSize.values(w);
      long after = ModelSize.values(r.weights());
      assertTrue(after < before * 0.8, after + " of " + before);
      r.keptChannels().forEach((layer, kept) ->
          assertEquals(shapes.get(layer)[0] - Math.round(shapes.get(layer)[0] * 0.5f), kept, scope + " " + layer));
      try (Network original = Network.build(spec, 1);
          Network pruned = Network.build(r.spec(), 1);
          Tensor x = Fixtures.randomInput(4, spec.inputShape(), seed + 1)) {
        original.loadStateDict(w);
        pruned.loadStateDict(r.weights());
        float[] expected = original.forward(x, false).toFloatArray();
        float[] got = pruned.forward(x, false).toFloatArray();
        assertTrue(Fixtures.maxAbsDiff(expected, got) <= 1e-5 * (1 + Fixtures.maxAbs(expected)),
            scope + ": " + Fixtures.maxAbsDiff(expected, got));
      }
    }
  }

  @Test
  void convnetLosesDeadFiltersAndUnitsWithoutChangingItsOutput() {
    assertRemovingDeadChannelsKeepsTheLogits(Fixtures.smallConvnet(), 3);
  }

  @Test
  void residualNetworksPruneOnlyTheInnerConvolutionOfEachBlock() {
    NetworkSpec spec = Fixtures.tinyResnet();
    assertRemovingDeadChannelsKeepsTheLogits(spec, 5);
    StructuredPruning.Result r = StructuredPruning.prune(spec, Fixtures.weights(spec, 5), 0.5, MagnitudePruning.Scope.GLOBAL);
    assertEquals(List.of("layer1.0.conv1", "layer2.0.conv1", "layer3.0.conv1"), List.copyOf(r.keptChannels().keySet()));
    assertTrue(r.skipped().get("layer1.0.conv2").contains("ADD"), r.skipped().toString());
    assertTrue(r.skipped().get("conv1").contains("ADD"), r.skipped().toString());
    assertTrue(r.skipped().get("fc").contains("output"), r.skipped().toString());
  }

  @Test
  void depthwiseConvolutionsFollowTheirProducer() {
    NetworkSpec spec = Architectures.build("mobilenet", Map.of("width", 25), new int[] {1, 8, 8}, 4);
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 7);
    StructuredPruning.Result r = StructuredPruning.prune(spec, w, 0.5, MagnitudePruning.Scope.LAYER);
    assertTrue(r.keptChannels().containsKey("conv1"), r.keptChannels().toString());
    Map<String, int[]> shapes = r.spec().shapes();
    assertEquals(r.keptChannels().get("conv1"), shapes.get("block1.dw")[0]);
    try (Network pruned = Network.build(r.spec(), 1); Tensor x = Fixtures.randomInput(2, spec.inputShape(), 8)) {
      pruned.loadStateDict(r.weights());
      assertEquals(8, pruned.forward(x, false).numel());
    }
  }

  @Test
  void aModelWithNothingToPruneIsAUserError() {
    NetworkSpec spec = new NetworkSpecBuilder().input("image", new int[] {1, 4, 4})
        .layer("FLATTEN", List.of(), Map.of(), null).layer("DENSE", List.of(3), Map.of(), null).build(3);
    UserException e = assertThrows(UserException.class,
        () -> StructuredPruning.prune(spec, Fixtures.weights(spec, 1), 0.5, MagnitudePruning.Scope.GLOBAL));
    assertTrue(e.getMessage().contains("output layer"), e.getMessage());
    assertThrows(UserException.class,
        () -> StructuredPruning.prune(spec, Fixtures.weights(spec, 1), 1.0, MagnitudePruning.Scope.GLOBAL));
  }
}
