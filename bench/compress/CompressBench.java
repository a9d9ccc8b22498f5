import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.NDArray;
import io.dlsql.catalog.WeightSet;
import io.dlsql.catalog.source.IdxDataset;
import io.dlsql.executor.compress.Calibration;
import io.dlsql.executor.compress.InferenceModel;
import io.dlsql.executor.compress.QuantizedNetwork;
import io.dlsql.executor.compress.SparseNetwork;
import io.dlsql.executor.compress.TensorArchive;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.NetworkSpecBuilder;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.InMemoryDataset;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Inference speed of the anchor convnet's compressed variants against the fp32 model, on the
 * weights {@code bench/compress/convnet.sql} stored in a catalog: int8 (quantized here from the
 * stored fp32 weights with the same recipe as the script's COMPRESS, calibrated on the first 512
 * training images), the 90%-pruned model with the sparse layers its COMPRESS chose (and, per
 * layer, CSR against dense at the same weights), and the 50%-channel-pruned model. Batch 256 of
 * Fashion-MNIST test images, one kernel thread, thread CPU time (other processes on a shared
 * machine do not count), rounds of fp32 then variant back to back with the order alternating;
 * prints each round and the medians. Run (the catalog must not be open elsewhere):
 * {@code java <flags> -cp <executor+catalog cp> bench/compress/CompressBench.java --data DIR}.
 */
public final class CompressBench {
  private static final int CALIBRATION_IMAGES = 512;
  private static final int BATCH = 256;

  public static void main(String[] args) {
    Map<String, String> a = BenchData.parse(args);
    Path dir = Path.of(a.getOrDefault("data", "/tmp/cmp-data"));
    int rounds = Integer.parseInt(a.getOrDefault("rounds", "5"));
    int batches = Integer.parseInt(a.getOrDefault("batches", "4"));
    int sparseRepeats = Integer.parseInt(a.getOrDefault("sparse-repeats", "7"));
    Parallel.setThreads(1);
    IdxDataset train = BenchData.train();
    IdxDataset test = BenchData.test();
    LinkedHashMap<String, float[]> dense;
    LinkedHashMap<String, float[]> pruned;
    LinkedHashMap<String, float[]> channels;
    Set<String> sparseLayers;
    try (Catalog catalog = Catalog.open(dir)) {
      dense = floats(catalog.loadWeights("convnet"));
      pruned = SparseNetwork.stateFromArchive(archive(catalog.loadWeights("convnet_p90")));
      channels = floats(catalog.loadWeights("convnet_c50"));
      ModelInfo p90 = catalog.model("convnet_p90").orElseThrow();
      sparseLayers = new LinkedHashSet<>();
      for (String s : p90.properties().getOrDefault("sparse_layers", "").split(",")) {
        if (!s.isBlank()) {
          sparseLayers.add(s.trim());
        }
      }
    }
    NetworkSpec spec = convnet(32, 64, 1024);
    NetworkSpec small = convnet(channels.get("conv1.bias").length, channels.get("conv2.bias").length,
        channels.get("dense1.bias").length);
    System.out.printf(Locale.ROOT, "convnet_p90 sparse layers (as COMPRESS chose them): %s%n", sparseLayers);
    System.out.printf(Locale.ROOT, "convnet_c50: %s%n", small.shapes().entrySet().stream()
        .map(e -> e.getKey() + Arrays.toString(e.getValue())).toList());

    try (Arena arena = Arena.ofShared(); Tensor x = Tensor.zeros(BATCH * batches, 1, 28, 28)) {
      BenchData.load(test, x);
      // Per layer: CSR against dense on the pruned weights (what COMPRESS measured to choose).
      for (int r = 0; r < 3; r++) {
        for (SparseNetwork.LayerTiming t : SparseNetwork.measure(spec, pruned, BATCH, sparseRepeats)) {
          System.out.printf(Locale.ROOT, "p90 layer %-7s density %.3f dense %8.3f ms sparse %8.3f ms (sparse/dense %.2f)%n",
              t.node(), t.density(), t.denseMillis(), t.sparseMillis(), t.sparseMillis() / t.denseMillis());
        }
      }
      Network fp32 = network(spec, dense);
      Network c50 = network(small, channels);
      Network p90Dense = network(spec, pruned);
      InMemoryDataset calibration = BenchData.images(arena, train, CALIBRATION_IMAGES);
      List<Variant> variants = List.of(
          new Variant("int8", QuantizedNetwork.quantize(spec, dense, calibration, Calibration.Options.defaults())),
          new Variant("p90 (chosen kernels)", SparseNetwork.open(spec, pruned, sparseLayers)),
          new Variant("p90 (all dense)", InferenceModel.of(p90Dense)),
          new Variant("c50", InferenceModel.of(c50)));
      try (InferenceModel base = InferenceModel.of(fp32)) {
        for (int w = 0; w < 2; w++) {
          time(base, x, batches);
          for (Variant v : variants) {
            time(v.model(), x, batches);
          }
        }
        for (Variant v : variants) {
          double[] baseRates = new double[rounds];
          double[] rates = new double[rounds];
          double[] ratios = new double[rounds];
          for (int r = 0; r < rounds; r++) {
            if (r % 2 == 0) {
              baseRates[r] = time(base, x, batches);
              rates[r] = time(v.model(), x, batches);
            } else {
              rates[r] = time(v.model(), x, batches);
              baseRates[r] = time(base, x, batches);
            }
            ratios[r] = rates[r] / baseRates[r];
          }
          System.out.printf(Locale.ROOT,
              "%-22s fp32 %7.1f images/s, variant %7.1f images/s, median ratio %.3f (rounds %s)%n", v.name(),
              BenchData.median(baseRates), BenchData.median(rates), BenchData.median(ratios), Arrays.toString(round(ratios)));
        }
      } finally {
        for (Variant v : variants) {
          v.model().close();
        }
      }
    }
  }

  private record Variant(String name, InferenceModel model) {}

  /** The SQL convnet's layers (same builder, so the same node names as its stored weights). */
  private static NetworkSpec convnet(int c1, int c2, int units) {
    return new NetworkSpecBuilder().input("image", new int[] {1, 28, 28})
        .layer("CONV2D", List.of(c1), Map.of("KERNEL", 5, "PADDING", "same"), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("MAXPOOL", List.of(2), Map.of(), null)
        .layer("CONV2D", List.of(c2), Map.of("KERNEL", 5, "PADDING", "same"), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("MAXPOOL", List.of(2), Map.of(), null)
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(units), Map.of(), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("DROPOUT", List.of(0.4), Map.of(), null)
        .layer("DENSE", List.of(10), Map.of(), null)
        .build(10);
  }

  private static Network network(NetworkSpec spec, Map<String, float[]> state) {
    Network n = Network.build(spec, 1);
    n.loadStateDict(state);
    return n;
  }

  /** Images per second of thread CPU time over {@code batches} batches of 256. */
  private static double time(InferenceModel m, Tensor x, int batches) {
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    long t0 = bean.getCurrentThreadCpuTime();
    for (int b = 0; b < batches; b++) {
      m.forward(x.slice(b * BATCH, BATCH));
    }
    return (double) BATCH * batches / ((bean.getCurrentThreadCpuTime() - t0) / 1e9);
  }

  private static LinkedHashMap<String, float[]> floats(WeightSet w) {
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    w.arrays().forEach((k, v) -> out.put(k, v.floats()));
    return out;
  }

  /** A compressed variant's weights: one INT8 array holding a tensor archive. */
  private static TensorArchive archive(WeightSet w) {
    if (w.arrays().size() != 1) {
      throw new IllegalStateException("not a compressed variant's weights: " + w.arrays().keySet());
    }
    NDArray only = w.arrays().values().iterator().next();
    return TensorArchive.decode(only.bytes());
  }

  private static double[] round(double[] v) {
    return Arrays.stream(v).map(d -> Math.round(d * 1000) / 1000.0).toArray();
  }
}
