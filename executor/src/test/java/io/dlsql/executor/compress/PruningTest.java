package io.dlsql.executor.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.InMemoryDataset;
import io.dlsql.executor.train.TrainOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PruningTest {
  @Test
  void unstructuredPruningRemovesExactlyTheSmallestWeights() {
    NetworkSpec spec = Fixtures.smallConvnet();
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 1);
    for (MagnitudePruning.Scope scope : MagnitudePruning.Scope.values()) {
      PruningMask mask = MagnitudePruning.unstructured(spec, w, 0.7, scope);
      assertEquals(0.7, mask.sparsity(), 0.01, scope.name());
      if (scope == MagnitudePruning.Scope.LAYER) {
        mask.keep().forEach((k, keep) -> {
          float[] v = w.get(k);
          double keptMin = Double.POSITIVE_INFINITY;
          double prunedMax = 0;
          int pruned = 0;
          for (int i = 0; i < v.length; i++) {
            if (keep[i]) {
              keptMin = Math.min(keptMin, Math.abs(v[i]));
            } else {
              prunedMax = Math.max(prunedMax, Math.abs(v[i]));
              pruned++;
            }
          }
          assertEquals(Math.round(0.7 * v.length), pruned, k);
          assertTrue(prunedMax <= keptMin, k);
        });
      } else {
        double keptMin = Double.POSITIVE_INFINITY;
        double prunedMax = 0;
        for (Map.Entry<String, boolean[]> e : mask.keep().entrySet()) {
          float[] v = w.get(e.getKey());
          for (int i = 0; i < v.length; i++) {
            if (e.getValue()[i]) {
              keptMin = Math.min(keptMin, Math.abs(v[i]));
            } else {
              prunedMax = Math.max(prunedMax, Math.abs(v[i]));
            }
          }
        }
        assertTrue(prunedMax <= keptMin);
      }
    }
    assertEquals(0, MagnitudePruning.unstructured(spec, w, 0, MagnitudePruning.Scope.GLOBAL).sparsity());
    for (double bad : new double[] {1, -0.1, 1.5, Double.NaN}) {
      UserException e = assertThrows(UserException.class,
          () -> MagnitudePruning.unstructured(spec, w, bad, MagnitudePruning.Scope.GLOBAL));
      assertTrue(e.getMessage().contains("[0, 1)"), e.getMessage());
    }
    assertThrows(UserException.class, () -> MagnitudePruning.Scope.parse("row"));
  }

  @Test
  void csrProductMatchesADenseFloat64Product() {
    Rng rng = new Rng(7);
    int rows = 9, cols = 23, n = 77;
    float[] dense = new float[rows * cols];
    for (int i = 0; i < dense.length; i++) {
      dense[i] = rng.nextFloat() < 0.7 ? 0f : (float) rng.uniform(-1, 1);
    }
    dense[3 * cols + 4] = 0; // a row with few non-zeros
    CsrMatrix csr = CsrMatrix.fromDense(dense, rows, cols);
    assertArrayEquals(dense, csr.toDense());
    float[] bias = new float[rows];
    for (int r = 0; r < rows; r++) {
      bias[r] = (float) rng.uniform(-1, 1);
    }
    try (Arena arena = Arena.ofConfined()) {
      int ldb = n + 3, ldc = n + 1;
      MemorySegment b = arena.allocate((long) cols * ldb * 4);
      for (long i = 0; i < (long) cols * ldb; i++) {
        b.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rng.uniform(-1, 1));
      }
      for (boolean vector : new boolean[] {false, true}) {
        MemorySegment c = arena.allocate((long) rows * ldc * 4);
        csr.multiply(n, b, 0, ldb, c, 0, ldc, bias, vector);
        for (int r = 0; r < rows; r++) {
          for (int j = 0; j < n; j++) {
            double expected = bias[r];
            for (int k = 0; k < cols; k++) {
              expected += (double) dense[r * cols + k] * b.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) k * ldb + j);
            }
            assertEquals(expected, c.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) r * ldc + j), 1e-5,
                "vector=" + vector + " at " + r + "," + j);
          }
        }
      }
    }
  }

  @Test
  void sparseNetworkMatchesTheDenseNetworkOnPrunedWeights() {
    for (NetworkSpec spec : new NetworkSpec[] {Fixtures.smallConvnet(), Fixtures.tinyResnet()}) {
      LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 11);
      MagnitudePruning.unstructured(spec, w, 0.8, MagnitudePruning.Scope.GLOBAL).applyTo(w);
      List<SparseNetwork.LayerTiming> timings = SparseNetwork.measure(spec, w, 4, 2);
      assertEquals(MagnitudePruning.prunableWeights(spec).size(), timings.size());
      Set<String> all = new java.util.LinkedHashSet<>();
      timings.forEach(t -> all.add(t.node()));
      try (Network net = Network.build(spec, 1);
          SparseNetwork sparse = SparseNetwork.open(spec, w, all);
          Tensor x = Fixtures.randomInput(5, spec.inputShape(), 12)) {
        net.loadStateDict(w);
        float[] expected = net.forward(x, false).toFloatArray();
        float[] got = sparse.forward(x).toFloatArray();
        assertTrue(Fixtures.maxAbsDiff(expected, got) <= 1e-4 * (1 + Fixtures.maxAbs(expected)));
      }
      ModelSize size = SparseNetwork.size(spec, w);
      assertTrue(size.bytes() < ModelSize.fp32Bytes(w) / 2, size + " vs " + ModelSize.fp32Bytes(w));
    }
  }

  @Test
  void fineTuningKeepsPrunedWeightsAtZeroAndLearns() {
    NetworkSpec spec = new io.dlsql.executor.graph.NetworkSpecBuilder().input("image", new int[] {1, 8, 8})
        .layer("CONV2D", List.of(4), Map.of("KERNEL", 3, "PADDING", 1), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("MAXPOOL", List.of(2), Map.of(), null)
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(4), Map.of(), null)
        .build(4);
    InMemoryDataset data = Fixtures.quadrants(256, 1, 8, 5);
    try (Network net = Network.build(spec, 3)) {
      LinkedHashMap<String, float[]> w = net.stateDict();
      PruningMask mask = MagnitudePruning.unstructured(spec, w, 0.5, MagnitudePruning.Scope.LAYER);
      TrainOptions opts = TrainOptions.fromMap(Map.of("epochs", 3, "batch_size", 32, "learning_rate", 0.1,
          "momentum", 0.9, "weight_decay", 1e-3, "seed", 9));
      List<CompressionTrainer.Epoch> history =
          CompressionTrainer.fit(net, data, opts, CompressionTrainer.crossEntropy(opts), mask);
      assertEquals(3, history.size());
      assertTrue(history.get(2).loss() < history.get(0).loss(), history.toString());
      LinkedHashMap<String, float[]> after = net.stateDict();
      mask.keep().forEach((k, keep) -> {
        float[] v = after.get(k);
        for (int i = 0; i < keep.length; i++) {
          if (!keep[i]) {
            assertEquals(0f, v[i], k + "[" + i + "]");
          }
        }
      });
      assertEquals(0.5, MagnitudePruning.unstructured(spec, after, 0.5, MagnitudePruning.Scope.LAYER).sparsity(), 0.01);
    }
  }
}
