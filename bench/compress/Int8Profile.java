import io.dlsql.catalog.source.IdxDataset;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.compress.Calibration;
import io.dlsql.executor.compress.Int8Gemm;
import io.dlsql.executor.compress.NodeTime;
import io.dlsql.executor.compress.QuantizedNetwork;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Int8 inference against fp32 inference of the same network, per layer, at batch 256: rounds of
 * fp32 then int8 (back to back, alternating which goes first), each over a few batches of
 * Fashion-MNIST test images, timed in thread CPU time at one kernel thread (so other processes on
 * a shared machine do not count) or in wall time with {@code --threads 2}. Prints per round the
 * images/s of both and their ratio, then the median per-layer milliseconds per batch. The int8
 * model is calibrated on the first 512 training images; the weights are the network's seeded
 * initialisation, or with {@code --data DIR} the trained model of that name stored there (the
 * convnet of bench/compress/convnet.sql, or the resnet20 of bench/compress/resnet20-train.sql).
 * The last line is {@code speedup int8-<model> <median ratio>}; {@code --quiet} prints only the
 * summary lines. Per-layer clocks cost time of their own (the thread CPU clock about 13 ms per
 * batch over fp32's 11 layers): take the overall ratio from a run with {@code --wall-layers}.
 * Run: {@code java <flags> -cp <executor cp> bench/compress/Int8Profile.java --model convnet}.
 */
public final class Int8Profile {
  private static final int CALIBRATION_IMAGES = 512;

  public static void main(String[] args) {
    Map<String, String> a = BenchData.parse(args);
    String model = a.getOrDefault("model", "convnet");
    int threads = Integer.parseInt(a.getOrDefault("threads", "1"));
    int batch = Integer.parseInt(a.getOrDefault("batch", "256"));
    int batches = Integer.parseInt(a.getOrDefault("batches", "4"));
    int rounds = Integer.parseInt(a.getOrDefault("rounds", "5"));
    boolean cpu = threads == 1;
    Parallel.setThreads(threads);
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();

    IdxDataset train = BenchData.train();
    IdxDataset test = BenchData.test();
    LinkedHashMap<String, float[]> stored = null;
    if (a.containsKey("data")) {
      // The trained model stored by the SQL scripts, with its SQL layer names.
      try (io.dlsql.catalog.Catalog catalog = io.dlsql.catalog.Catalog.open(Path.of(a.get("data")))) {
        stored = new LinkedHashMap<>();
        LinkedHashMap<String, float[]> into = stored;
        catalog.loadWeights(model).arrays().forEach((k, v) -> into.put(k, v.floats()));
      }
    }
    boolean quiet = a.containsKey("quiet");
    NetworkSpec spec = switch (model) {
      case "convnet" -> stored != null ? sqlConvnet() : Architectures.build("convnet", Map.of(), new int[] {1, 28, 28}, 10);
      case "resnet20" -> Architectures.build("resnet", Map.of("depth", 20), new int[] {1, 28, 28}, 10);
      default -> throw new IllegalArgumentException("unknown model " + model);
    };
    try (Arena arena = Arena.ofShared();
        Network net = Network.build(spec, 1);
        Tensor x = Tensor.zeros(batch * batches, 1, 28, 28)) {
      net.setBatchNormFolding(!a.containsKey("no-fold"));
      if (stored != null) {
        net.loadStateDict(stored);
      }
      LinkedHashMap<String, float[]> w = net.stateDict();
      InMemoryDataset calibration = BenchData.images(arena, train, CALIBRATION_IMAGES);
      BenchData.load(test, x);
      int[] labels = new int[batch * batches];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = test.label(i);
      }
      try (QuantizedNetwork q = QuantizedNetwork.quantize(spec, w, calibration, Calibration.Options.defaults())) {
        if (a.containsKey("variant")) {
          q.setGemmVariant(Int8Gemm.Variant.valueOf(a.get("variant").toUpperCase(Locale.ROOT)));
        }
        // Per-layer clocks: thread CPU time at one thread, unless --wall-layers (the overall rate
        // is timed in CPU time either way; reading the CPU clock per layer costs time of its own).
        boolean cpuLayers = cpu && !a.containsKey("wall-layers");
        net.useThreadCpuClock(cpuLayers);
        q.useThreadCpuClock(cpuLayers);
        // warm-up: C2 compiles the kernels during the first batches
        for (int r = 0; r < 3; r++) {
          run(net, null, x, batch, batches, labels);
          run(null, q, x, batch, batches, labels);
        }
        List<double[]> fp32Layers = new ArrayList<>();
        List<double[]> int8Layers = new ArrayList<>();
        double[] fp32Rates = new double[rounds];
        double[] int8Rates = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          for (int side = 0; side < 2; side++) {
            boolean fp32First = r % 2 == 0;
            boolean fp32 = (side == 0) == fp32First;
            net.resetLayerTimes();
            q.resetNodeTimes();
            long t0 = cpu ? bean.getCurrentThreadCpuTime() : System.nanoTime();
            int correct = fp32 ? run(net, null, x, batch, batches, labels) : run(null, q, x, batch, batches, labels);
            long dt = (cpu ? bean.getCurrentThreadCpuTime() : System.nanoTime()) - t0;
            double rate = batch * batches / (dt / 1e9);
            if (fp32) {
              fp32Rates[r] = rate;
              fp32Layers.add(net.layerTimes().stream().mapToDouble(t -> t.forwardNanos() / 1e6 / batches).toArray());
            } else {
              int8Rates[r] = rate;
              int8Layers.add(q.nodeTimes().stream().mapToDouble(t -> t.nanos() / 1e6 / batches).toArray());
            }
            if (!quiet) {
              System.out.printf(Locale.ROOT, "round %d %s: %.1f images/s (%s), accuracy on these images %.4f%n", r,
                  fp32 ? "fp32" : "int8", rate, cpu ? "thread CPU time, 1 thread" : "wall, " + threads + " threads",
                  (double) correct / (batch * batches));
            }
          }
          if (!quiet) {
            System.out.printf(Locale.ROOT, "round %d int8/fp32 = %.3f%n", r, int8Rates[r] / fp32Rates[r]);
          }
        }
        double[] ratios = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          ratios[r] = int8Rates[r] / fp32Rates[r];
        }
        System.out.printf(Locale.ROOT, "%s batch %d: fp32 %.1f images/s, int8 %.1f images/s, median ratio %.3f%n",
            model, batch, BenchData.median(fp32Rates), BenchData.median(int8Rates), BenchData.median(ratios));
        if (quiet) {
          System.out.printf(Locale.ROOT, "speedup int8-%s %.3f%n", model, BenchData.median(ratios));
          return;
        }
        System.out.println("fp32 per layer (median ms per batch):");
        print(net.layerTimes().stream().map(t -> t.node() + " " + t.op().specName()).toList(), fp32Layers);
        System.out.println("int8 per node (median ms per batch; a fused chain's time at its last node):");
        Map<String, String> chainOf = new LinkedHashMap<>();
        for (List<String> chain : q.fusedChains()) {
          for (String node : chain) {
            chainOf.put(node, String.join("+", chain));
          }
        }
        print(q.nodeTimes().stream().map(t -> chainOf.getOrDefault(t.node(), t.node() + " " + t.op().specName()))
            .toList(), int8Layers);
        System.out.printf(Locale.ROOT, "speedup int8-%s %.3f%n", model, BenchData.median(ratios));
      }
    }
  }

  /** The convnet as bench/compress/convnet.sql defines it (same builder, so the same node names). */
  private static NetworkSpec sqlConvnet() {
    return new io.dlsql.executor.graph.NetworkSpecBuilder().input("image", new int[] {1, 28, 28})
        .layer("CONV2D", List.of(32), Map.of("KERNEL", 5, "PADDING", "same"), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("MAXPOOL", List.of(2), Map.of(), null)
        .layer("CONV2D", List.of(64), Map.of("KERNEL", 5, "PADDING", "same"), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("MAXPOOL", List.of(2), Map.of(), null)
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(1024), Map.of(), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("DROPOUT", List.of(0.4), Map.of(), null)
        .layer("DENSE", List.of(10), Map.of(), null)
        .build(10);
  }

  private static int run(Network net, QuantizedNetwork q, Tensor x, int batch, int batches, int[] labels) {
    int correct = 0;
    for (int b = 0; b < batches; b++) {
      Tensor view = x.slice(b * batch, batch);
      Tensor logits = net != null ? net.forward(view, false) : q.forward(view);
      correct += SoftmaxCrossEntropy.correct(logits, Arrays.copyOfRange(labels, b * batch, (b + 1) * batch), batch);
    }
    return correct;
  }

  private static void print(List<String> names, List<double[]> rounds) {
    double total = 0;
    for (int i = 0; i < names.size(); i++) {
      double[] v = new double[rounds.size()];
      for (int r = 0; r < v.length; r++) {
        v[r] = rounds.get(r)[i];
      }
      double m = BenchData.median(v);
      total += m;
      if (m == 0 && names.get(i).contains("+")) {
        continue;
      }
      System.out.printf(Locale.ROOT, "  %-40s %9.3f%n", names.get(i), m);
    }
    System.out.printf(Locale.ROOT, "  %-40s %9.3f%n", "sum", total);
  }
}
