import io.dlsql.catalog.source.IdxDataset;
import io.dlsql.catalog.source.IdxReader;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.optim.Sgd;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The dlsql side of {@code bench/compare.sh}: trains the anchor convnet or ResNet-20 for a number
 * of SGD steps (learning rate 0.05, momentum 0.9) on random-order batches of Fashion-MNIST, then
 * runs inference over the test set, and prints images per second in the same form as
 * {@code torch_fashion.py}. Run with the executor's class path through the source launcher:
 * {@code java <flags> -cp <cp> bench/e2e/Throughput.java --model convnet}.
 */
public final class Throughput {
  private static final String DATA = "/usr/share/datasets/fashion-mnist/";
  private static final double LEARNING_RATE = 0.05;
  private static final double MOMENTUM = 0.9;
  private static final int WARMUP_STEPS = 5;
  private static final int WARMUP_INFERENCE_BATCHES = 2;
  private static final long SEED = 0;

  public static void main(String[] args) {
    Map<String, String> a = parse(args);
    String model = a.getOrDefault("model", "convnet");
    int threads = Integer.parseInt(a.getOrDefault("threads", "2"));
    int batch = Integer.parseInt(a.getOrDefault("batch", "128"));
    int steps = Integer.parseInt(a.getOrDefault("steps", "60"));
    int inferBatch = Integer.parseInt(a.getOrDefault("infer-batch", "256"));
    int inferImages = Integer.parseInt(a.getOrDefault("infer-images", "10000"));
    boolean layers = a.containsKey("layers");
    // With one thread, CPU time of this thread is all the work, however loaded the machine is.
    boolean cpu = threads == 1;
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    String only = a.getOrDefault("only", "both");
    Parallel.setThreads(threads);

    IdxDataset train = IdxReader.read(Path.of(DATA + "train-images-idx3-ubyte.gz"),
        Path.of(DATA + "train-labels-idx1-ubyte.gz"));
    IdxDataset test = IdxReader.read(Path.of(DATA + "t10k-images-idx3-ubyte.gz"),
        Path.of(DATA + "t10k-labels-idx1-ubyte.gz"));
    NetworkSpec spec = switch (model) {
      case "convnet" -> Architectures.build("convnet", Map.of(), new int[] {1, 28, 28}, 10);
      case "resnet20" -> Architectures.build("resnet", Map.of("depth", 20), new int[] {1, 28, 28}, 10);
      default -> throw new IllegalArgumentException("unknown model " + model);
    };
    try (Network net = Network.build(spec, SEED);
        Tensor x = Tensor.zeros(batch, 1, 28, 28);
        Tensor grad = Tensor.zeros(batch, 10);
        Sgd sgd = new Sgd(MOMENTUM, false, 0)) {
      net.useThreadCpuClock(cpu);
      if (a.containsKey("algorithm")) {
        // Layers the algorithm cannot compute (1x1 or strided for Winograd) keep their default.
        Conv2d.Algorithm algorithm = Conv2d.Algorithm.valueOf(a.get("algorithm").toUpperCase(Locale.ROOT));
        for (var layer : net.layers()) {
          if (layer instanceof Conv2d c && Conv2d.supports(algorithm, c.geometry())) {
            net.choose(c.name(), net.choice(c.name()).withAlgorithm(algorithm));
          }
        }
      }
      net.setBatchNormFolding(!a.containsKey("no-fold"));
      if (!only.equals("infer")) {
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0);
        int[] labels = new int[batch];
        int[] order = new int[train.count()];
        Rng rng = new Rng(SEED);
        rng.permutation(order);
        int perEpoch = train.count() / batch;
        double last = 0;
        long started = 0;
        long cpuStarted = 0;
        for (int s = 0; s < WARMUP_STEPS + steps; s++) {
          if (s == WARMUP_STEPS) {
            started = System.nanoTime();
            cpuStarted = bean.getCurrentThreadCpuTime();
            net.resetLayerTimes();
          }
          int k = s % perEpoch;
          if (k == 0 && s > 0) {
            rng.permutation(order);
          }
          load(train, order, k * batch, batch, x, labels);
          Tensor logits = net.forward(x, true);
          last = loss.forward(logits, labels, batch, grad);
          net.backward(grad);
          sgd.step(net.parameters(), LEARNING_RATE);
        }
        double dt = (System.nanoTime() - started) / 1e9;
        System.out.printf(Locale.ROOT, "train %s threads=%d batch=%d: %.1f img/s (%.2fs, loss %.3f)%s%n",
            model, threads, batch, steps * batch / dt, dt, last,
            cpu ? cpuRate(steps * batch, bean.getCurrentThreadCpuTime() - cpuStarted) : "");
        if (layers) {
          printLayers(net, steps);
        }
      }
      if (!only.equals("train")) {
        int n = Math.min(inferImages, test.count());
        int[] order = new int[test.count()];
        for (int i = 0; i < order.length; i++) {
          order[i] = i;
        }
        try (Tensor xi = Tensor.zeros(inferBatch, 1, 28, 28)) {
          int[] labels = new int[inferBatch];
          for (int w = 0; w < WARMUP_INFERENCE_BATCHES; w++) {
            load(test, order, 0, inferBatch, xi, labels);
            net.forward(xi, false);
          }
          net.resetLayerTimes();
          long started = System.nanoTime();
          long cpuStarted = bean.getCurrentThreadCpuTime();
          int correct = 0;
          int batches = 0;
          for (int j = 0; j < n; j += inferBatch) {
            int count = Math.min(inferBatch, n - j);
            Tensor view = count == inferBatch ? xi : xi.slice(0, count);
            load(test, order, j, count, view, labels);
            Tensor logits = net.forward(view, false);
            correct += SoftmaxCrossEntropy.correct(logits, labels, count);
            batches++;
          }
          double dt = (System.nanoTime() - started) / 1e9;
          System.out.printf(Locale.ROOT, "infer %s batch=%d: %.1f img/s; test accuracy %.4f%s%n",
              model, inferBatch, n / dt, (double) correct / n,
              cpu ? cpuRate(n, bean.getCurrentThreadCpuTime() - cpuStarted) : "");
          if (layers) {
            printLayers(net, batches);
          }
        }
      }
    }
  }

  /** Pixels scaled to [0, 1], as torch_fashion.py does. */
  private static void load(IdxDataset d, int[] order, int from, int count, Tensor dest, int[] labels) {
    MemorySegment out = dest.segment();
    int pixels = d.imageRows() * d.imageCols();
    for (int k = 0; k < count; k++) {
      int i = order[(from + k) % order.length];
      byte[] img = d.image(i);
      for (int p = 0; p < pixels; p++) {
        out.setAtIndex(Tensor.F32, (long) k * pixels + p, (img[p] & 0xFF) / 255f);
      }
      labels[k] = d.label(i);
    }
  }

  private static String cpuRate(long images, long cpuNanos) {
    return String.format(Locale.ROOT, "; %.1f img/s of CPU time", images / (cpuNanos / 1e9));
  }

  private static void printLayers(Network net, int calls) {
    for (Network.LayerTime t : net.layerTimes()) {
      System.out.printf(Locale.ROOT, "  %-24s %-14s fwd %8.3f ms  bwd %8.3f ms%n", t.node(),
          t.op().specName(), t.forwardNanos() / 1e6 / calls, t.backwardNanos() / 1e6 / calls);
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i]);
      }
      String key = args[i].substring(2);
      if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        out.put(key, args[++i]);
      } else {
        out.put(key, "true");
      }
    }
    return out;
  }
}
