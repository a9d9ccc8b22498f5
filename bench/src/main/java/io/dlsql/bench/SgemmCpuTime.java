package io.dlsql.bench;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Single-thread {@link Gemm#sgemm} GFLOP/s measured in the calling thread's CPU time rather than
 * wall time: on a machine whose cores other processes share, time spent descheduled does not
 * count, so the number stays near what a quiet machine gives (cache sharing still shows). The
 * counterpart of {@code sgemm_torch.py --clock thread}; JMH's {@link SgemmBenchmark} is the
 * wall-clock measure.
 *
 * <pre>java $FLAGS -cp bench/target/benchmarks.jar io.dlsql.bench.SgemmCpuTime [seconds] [shape...]</pre>
 */
public final class SgemmCpuTime {
  private SgemmCpuTime() {}

  /** Thread CPU time to spend warming up each shape until C2 has compiled the kernels. */
  private static final double WARMUP_SECONDS = 3;
  /** Timed batches per shape; the best one is reported. */
  private static final int BATCHES = 10;

  public static void main(String[] args) {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
    List<String> shapes = args.length > 1 ? List.of(args).subList(1, args.length) : GemmShape.BENCHMARK;
    Parallel.setThreads(1);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    System.out.printf("%-22s %8s %12s %10s%n", "shape (m x k x n)", "threads", "us/call", "GFLOP/s");
    for (String text : shapes) {
      GemmShape s = GemmShape.parse(text);
      try (Arena arena = Arena.ofConfined()) {
        SplittableRandom random = new SplittableRandom(42);
        MemorySegment a = random(arena, (long) s.m() * s.k(), random);
        MemorySegment b = random(arena, (long) s.k() * s.n(), random);
        MemorySegment c = random(arena, (long) s.m() * s.n(), random);
        Runnable call =
            () ->
                Gemm.sgemm(
                    s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, a, 0, s.lda(), b, 0, s.ldb(),
                    0f, c, 0, s.n());
        long warmupEnd = mx.getCurrentThreadCpuTime() + (long) (WARMUP_SECONDS * 1e9);
        while (mx.getCurrentThreadCpuTime() < warmupEnd) {
          call.run();
        }
        double best = Double.MAX_VALUE;
        for (int batch = 0; batch < BATCHES; batch++) {
          long start = mx.getCurrentThreadCpuTime();
          long end = start + (long) (seconds / BATCHES * 1e9);
          long calls = 0;
          long now;
          do {
            call.run();
            calls++;
            now = mx.getCurrentThreadCpuTime();
          } while (now < end);
          best = Math.min(best, (now - start) * 1e-9 / calls);
        }
        System.out.printf(
            Locale.ROOT, "%-22s %8d %12.1f %10.1f%n", text, 1, best * 1e6, s.flops() / best / 1e9);
      }
    }
  }

  private static MemorySegment random(Arena arena, long floats, SplittableRandom random) {
    MemorySegment seg = arena.allocate(floats * Float.BYTES, 64);
    for (long i = 0; i < floats; i++) {
      seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() * 2 - 1));
    }
    return seg;
  }
}
