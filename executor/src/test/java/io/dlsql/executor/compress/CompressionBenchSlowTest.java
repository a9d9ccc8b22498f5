package io.dlsql.executor.compress;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.train.InMemoryDataset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Speed of the compressed kernels against fp32 on the anchor shapes, one thread, variants timed
 * back to back (random weights: speed does not depend on training). Prints a table; run with
 * {@code ./mvnw -pl executor test -Dtest=CompressionBenchSlowTest -Ddlsql.test.excludedGroups=none}.
 */
@Tag("slow")
class CompressionBenchSlowTest {
  private static final int BATCH = 256;
  private static final int WARMUP = 2;
  private static final int BATCHES = 3;

  @Test
  void int8AgainstFp32() {
    int threads = Parallel.get().threads();
    Parallel.setThreads(1);
    try {
      for (String arch : List.of("convnet", "resnet")) {
        NetworkSpec spec = Architectures.build(arch, Map.of(), new int[] {1, 28, 28}, 10);
        LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 1);
        InMemoryDataset data = Fixtures.randomDataset(BATCH, spec.inputShape(), 10, 2);
        Network net = Network.build(spec, 1);
        net.loadStateDict(w);
        try (InferenceModel fp32 = InferenceModel.of(net);
            QuantizedNetwork int8 = QuantizedNetwork.quantize(spec, w, data, Calibration.Options.defaults())) {
          for (int round = 0; round < 2; round++) {
            Inference.Timing f = Inference.time(fp32, data, BATCH, WARMUP, BATCHES);
            System.out.printf("%s fp32: %.1f images/s%n", arch, f.imagesPerSecond());
            for (Int8Gemm.Variant v : List.of(Int8Gemm.Variant.INT32, Int8Gemm.Variant.FP32_EXACT)) {
              int8.setGemmVariant(v);
              Inference.Timing q = Inference.time(int8, data, BATCH, WARMUP, BATCHES);
              System.out.printf("%s int8 %s: %.1f images/s (%.2fx fp32), %d bytes vs %d fp32%n", arch, v,
                  q.imagesPerSecond(), q.imagesPerSecond() / f.imagesPerSecond(), int8.bytes(),
                  ModelSize.fp32Bytes(w));
            }
          }
        }
      }
    } finally {
      Parallel.setThreads(threads);
    }
  }

  @Test
  void sparseAgainstDensePerLayer() {
    int threads = Parallel.get().threads();
    Parallel.setThreads(1);
    try {
      NetworkSpec spec = Architectures.build("convnet", Map.of(), new int[] {1, 28, 28}, 10);
      for (double sparsity : new double[] {0.5, 0.8, 0.9, 0.95}) {
        LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 3);
        MagnitudePruning.unstructured(spec, w, sparsity, MagnitudePruning.Scope.LAYER).applyTo(w);
        List<SparseNetwork.LayerTiming> timings = SparseNetwork.measure(spec, w, BATCH, 4);
        for (SparseNetwork.LayerTiming t : timings) {
          System.out.printf("sparsity %.2f %-6s density %.3f dense %8.2f ms sparse %8.2f ms (%.2fx)%n", sparsity,
              t.node(), t.density(), t.denseMillis(), t.sparseMillis(), t.denseMillis() / t.sparseMillis());
        }
        assertTrue(SparseNetwork.size(spec, w).bytes() < ModelSize.fp32Bytes(w));
      }
    } finally {
      Parallel.setThreads(threads);
    }
  }
}
