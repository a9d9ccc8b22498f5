package io.dlsql.bench;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Convolution layers of the anchor convnet and ResNet-20 timed per algorithm in thread CPU time
 * (one kernel thread, so other processes on the cores do not count): forward, weight gradient
 * alone (no input gradient asked for) and the full backward, at a batch size, as GFLOP/s of the
 * convolution's own multiply-adds (2 * OC * C*KH*KW * OH*OW per image and pass). This is the
 * table in bench/README.md ("Convolution layers") that the planner's defaults are read from.
 *
 * <pre>java $FLAGS -cp bench/target/benchmarks.jar io.dlsql.bench.ConvLayerCpuTime [batch [seconds [layer...]]]</pre>
 */
public final class ConvLayerCpuTime {
  private ConvLayerCpuTime() {}

  /** CPU seconds to warm each case up until C2 has compiled its kernels. */
  private static final double WARMUP_SECONDS = 1.5;
  /** Timed batches per case; the best one is reported. */
  private static final int BATCHES = 5;

  /** The distinct convolution shapes of the convnet and ResNet-20 on 28 x 28 inputs. */
  static final Map<String, ConvGeometry> LAYERS = new LinkedHashMap<>();

  static {
    LAYERS.put("convnet.conv1", ConvGeometry.of(1, 28, 28, 32, 5, 1, 2, 1, 1));
    LAYERS.put("convnet.conv2", ConvGeometry.of(32, 14, 14, 64, 5, 1, 2, 1, 1));
    LAYERS.put("resnet.conv1", ConvGeometry.of(1, 28, 28, 16, 3, 1, 1, 1, 1));
    LAYERS.put("resnet.layer1", ConvGeometry.of(16, 28, 28, 16, 3, 1, 1, 1, 1));
    LAYERS.put("resnet.layer2.0.conv1", ConvGeometry.of(16, 28, 28, 32, 3, 2, 1, 1, 1));
    LAYERS.put("resnet.layer2.0.shortcut", ConvGeometry.of(16, 28, 28, 32, 1, 2, 0, 1, 1));
    LAYERS.put("resnet.layer2", ConvGeometry.of(32, 14, 14, 32, 3, 1, 1, 1, 1));
    LAYERS.put("resnet.layer3.0.conv1", ConvGeometry.of(32, 14, 14, 64, 3, 2, 1, 1, 1));
    LAYERS.put("resnet.layer3.0.shortcut", ConvGeometry.of(32, 14, 14, 64, 1, 2, 0, 1, 1));
    LAYERS.put("resnet.layer3", ConvGeometry.of(64, 7, 7, 64, 3, 1, 1, 1, 1));
  }

  public static void main(String[] args) {
    int batch = args.length > 0 ? Integer.parseInt(args[0]) : 128;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 1;
    List<String> names = args.length > 2 ? List.of(args).subList(2, args.length) : new ArrayList<>(LAYERS.keySet());
    Parallel.setThreads(1);
    System.out.printf("%-26s %-14s %10s %10s %10s %8s %8s %8s%n", "layer (batch " + batch + ")", "algorithm",
        "fwd ms", "dW ms", "bwd ms", "fwd GF/s", "dW GF/s", "bwd GF/s");
    for (String name : names) {
      ConvGeometry g = LAYERS.get(name);
      if (g == null) {
        throw new IllegalArgumentException("unknown layer " + name + "; known: " + LAYERS.keySet());
      }
      for (Conv2d.Algorithm algorithm : Conv2d.Algorithm.values()) {
        if (algorithm == Conv2d.Algorithm.DIRECT || !Conv2d.supports(algorithm, g)) {
          continue;
        }
        measure(name, g, algorithm, batch, seconds);
      }
    }
  }

  private static void measure(String name, ConvGeometry g, Conv2d.Algorithm algorithm, int batch, double seconds) {
    SplittableRandom random = new SplittableRandom(7);
    try (Conv2d conv = new Conv2d("conv", g, false);
        Tensor x = Tensor.zeros(batch, g.inChannels(), g.inHeight(), g.inWidth());
        Tensor y = Tensor.zeros(batch, g.outChannels(), g.outHeight(), g.outWidth());
        Tensor dy = Tensor.zeros(batch, g.outChannels(), g.outHeight(), g.outWidth());
        Tensor dx = Tensor.zeros(batch, g.inChannels(), g.inHeight(), g.inWidth())) {
      fill(x, random);
      fill(dy, random);
      fill(conv.weight(), random);
      conv.setAlgorithm(algorithm);
      conv.setFusedActivation(FusedActivation.RELU);
      Tensor[] in = {x};
      Runnable forward = () -> conv.forward(in, y, true);
      Runnable weights = () -> conv.backward(in, y, dy, new Tensor[] {null});
      Runnable backward = () -> conv.backward(in, y, dy, new Tensor[] {dx});
      forward.run();
      double f = time(forward, seconds);
      double w = time(weights, seconds);
      double b = time(backward, seconds);
      double flops = 2.0 * g.macsPerImage() * batch;
      System.out.printf(Locale.ROOT, "%-26s %-14s %10.2f %10.2f %10.2f %8.1f %8.1f %8.1f%n", name,
          algorithm.name().toLowerCase(Locale.ROOT), f * 1e3, w * 1e3, b * 1e3, flops / f / 1e9,
          flops / w / 1e9, 2 * flops / b / 1e9);
    }
  }

  /** Best seconds per call over {@link #BATCHES} batches of thread CPU time, after a warm-up. */
  private static double time(Runnable call, double seconds) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long warm = mx.getCurrentThreadCpuTime() + (long) (WARMUP_SECONDS * 1e9);
    while (mx.getCurrentThreadCpuTime() < warm) {
      call.run();
    }
    double best = Double.MAX_VALUE;
    for (int b = 0; b < BATCHES; b++) {
      long start = mx.getCurrentThreadCpuTime();
      long end = start + (long) (seconds / BATCHES * 1e9);
      int calls = 0;
      long now;
      do {
        call.run();
        calls++;
        now = mx.getCurrentThreadCpuTime();
      } while (now < end);
      best = Math.min(best, (now - start) * 1e-9 / calls);
    }
    return best;
  }

  private static void fill(Tensor t, SplittableRandom random) {
    for (long i = 0; i < t.numel(); i++) {
      t.setFlat(i, (float) (random.nextDouble() * 2 - 1));
    }
  }
}
