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
 * <pre>java $FLAGS -cp bench/target/benchmarks.jar io.dlsql.bench.ConvLayerCpuTime [--threads N] [--algorithm A]
 *     [batch [seconds [layer...]]]</pre>
 *
 * <p>With {@code --threads N} above one the kernels run on N threads and each case reports the
 * median wall time per call and every kernel thread's CPU time per call: how the work splits
 * shows as unequal busy times, and a busy time well below the wall time is a thread waiting.
 * Wall times count other processes on the cores, so they need a quiet machine.
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
    List<String> positional = new ArrayList<>();
    int threads = 1;
    Conv2d.Algorithm only = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--algorithm" -> only = Conv2d.Algorithm.valueOf(args[++i].toUpperCase(Locale.ROOT));
        default -> positional.add(args[i]);
      }
    }
    int batch = positional.size() > 0 ? Integer.parseInt(positional.get(0)) : 128;
    double seconds = positional.size() > 1 ? Double.parseDouble(positional.get(1)) : 1;
    List<String> names = positional.size() > 2 ? positional.subList(2, positional.size())
        : new ArrayList<>(LAYERS.keySet());
    Parallel.setThreads(threads);
    if (threads == 1) {
      System.out.printf("%-26s %-14s %10s %10s %10s %8s %8s %8s%n", "layer (batch " + batch + ")", "algorithm",
          "fwd ms", "dW ms", "bwd ms", "fwd GF/s", "dW GF/s", "bwd GF/s");
    } else {
      System.out.printf("%-26s %-14s %-5s %9s %9s %s%n", "layer (batch " + batch + ")", "algorithm", "pass",
          "wall ms", "GF/s", "CPU ms per thread (caller first)");
    }
    for (String name : names) {
      ConvGeometry g = LAYERS.get(name);
      if (g == null) {
        throw new IllegalArgumentException("unknown layer " + name + "; known: " + LAYERS.keySet());
      }
      for (Conv2d.Algorithm algorithm : Conv2d.Algorithm.values()) {
        if (algorithm == Conv2d.Algorithm.DIRECT || !Conv2d.supports(algorithm, g)
            || (only != null && algorithm != only)) {
          continue;
        }
        measure(name, g, algorithm, batch, seconds, threads);
      }
    }
  }

  private static void measure(
      String name, ConvGeometry g, Conv2d.Algorithm algorithm, int batch, double seconds, int threads) {
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
      if (threads > 1) {
        double flops = 2.0 * g.macsPerImage() * batch;
        String label = algorithm.name().toLowerCase(Locale.ROOT);
        wallTime(name, label, "fwd", forward, seconds, flops);
        wallTime(name, label, "dW", weights, seconds, flops);
        wallTime(name, label, "bwd", backward, seconds, 2 * flops);
        return;
      }
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

  /**
   * Prints the median wall time of {@code call} on the kernel pool and each kernel thread's CPU
   * time per call over the same calls, after a warm-up of {@link #WARMUP_SECONDS} of the caller's
   * CPU time.
   */
  private static void wallTime(String name, String algorithm, String pass, Runnable call, double seconds,
      double flops) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    // Warmed up by the caller's CPU time, as the one-thread cases are: on a loaded machine a
    // wall-clock warm-up can end before C2 has compiled the kernels, and the interpreted Vector
    // API is a hundred times slower.
    long warm = mx.getCurrentThreadCpuTime() + (long) (WARMUP_SECONDS * 1e9);
    while (mx.getCurrentThreadCpuTime() < warm) {
      call.run();
    }
    List<Thread> kernelThreads = new ArrayList<>();
    kernelThreads.add(Thread.currentThread());
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(Parallel.THREAD_NAME)) {
        kernelThreads.add(t);
      }
    }
    long[] cpuBefore = new long[kernelThreads.size()];
    for (int i = 0; i < cpuBefore.length; i++) {
      cpuBefore[i] = mx.getThreadCpuTime(kernelThreads.get(i).threadId());
    }
    List<Long> walls = new ArrayList<>();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    do {
      long start = System.nanoTime();
      call.run();
      walls.add(System.nanoTime() - start);
    } while (System.nanoTime() < end);
    StringBuilder cpu = new StringBuilder();
    for (int i = 0; i < cpuBefore.length; i++) {
      long used = mx.getThreadCpuTime(kernelThreads.get(i).threadId()) - cpuBefore[i];
      cpu.append(String.format(Locale.ROOT, " %8.3f", used * 1e-6 / walls.size()));
    }
    walls.sort(null);
    double median = walls.get(walls.size() / 2) * 1e-9;
    System.out.printf(Locale.ROOT, "%-26s %-14s %-5s %9.3f %9.1f%s%n", name, algorithm, pass, median * 1e3,
        flops / median / 1e9, cpu);
  }

  private static void fill(Tensor t, SplittableRandom random) {
    for (long i = 0; i < t.numel(); i++) {
      t.setFlat(i, (float) (random.nextDouble() * 2 - 1));
    }
  }
}
