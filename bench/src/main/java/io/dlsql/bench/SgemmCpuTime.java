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
 * {@link Gemm#sgemm} GFLOP/s measured in thread CPU time rather than wall time: on a machine whose
 * cores other processes share, time spent descheduled does not count, so the number stays near
 * what a quiet machine gives (cache sharing still shows). With one thread this is the counterpart
 * of {@code sgemm_torch.py --threads 1 --clock thread}. With more, the time per call is the CPU
 * time of the busiest kernel thread (the caller or a pool worker): an estimate of the wall time on
 * idle cores that leaves out thread wake-up latency. JMH's {@link SgemmBenchmark} is the
 * wall-clock measure.
 *
 * <pre>java $FLAGS -cp bench/target/benchmarks.jar io.dlsql.bench.SgemmCpuTime [threads [seconds [shape...]]]</pre>
 */
public final class SgemmCpuTime {
  private SgemmCpuTime() {}

  /** Thread CPU time to spend warming up each shape until C2 has compiled the kernels. */
  private static final double WARMUP_SECONDS = 3;
  /** Timed batches per shape; the best one is reported. */
  private static final int BATCHES = 10;

  /** Name of {@link Parallel}'s worker threads. */
  private static final String WORKER_NAME = "dlsql-kernel";

  public static void main(String[] args) {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2;
    List<String> shapes = args.length > 2 ? List.of(args).subList(2, args.length) : GemmShape.BENCHMARK;
    Parallel.setThreads(threads);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    System.out.printf("%-22s %8s %12s %10s%n", "shape (m x k x n)", "threads", "us/call", "GFLOP/s");
    for (String text : shapes) {
      GemmShape s = GemmShape.parse(text);
      try (Arena arena = Arena.ofShared()) {
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
        long[] ids = kernelThreadIds();
        double best = Double.MAX_VALUE;
        for (int batch = 0; batch < BATCHES; batch++) {
          long[] start = cpuTimes(mx, ids);
          long end = start[0] + (long) (seconds / BATCHES * 1e9);
          long calls = 0;
          do {
            call.run();
            calls++;
          } while (mx.getCurrentThreadCpuTime() < end);
          long[] stop = cpuTimes(mx, ids);
          long busiest = 0;
          for (int t = 0; t < ids.length; t++) {
            busiest = Math.max(busiest, stop[t] - start[t]);
          }
          best = Math.min(best, busiest * 1e-9 / calls);
        }
        System.out.printf(
            Locale.ROOT, "%-22s %8d %12.1f %10.1f%n", text, threads, best * 1e6, s.flops() / best / 1e9);
      }
    }
  }

  /** This thread first, then the kernel pool's workers. */
  private static long[] kernelThreadIds() {
    List<Long> workers =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().equals(WORKER_NAME))
            .map(Thread::threadId)
            .toList();
    long[] ids = new long[workers.size() + 1];
    ids[0] = Thread.currentThread().threadId();
    for (int i = 0; i < workers.size(); i++) {
      ids[i + 1] = workers.get(i);
    }
    return ids;
  }

  private static long[] cpuTimes(ThreadMXBean mx, long[] ids) {
    long[] out = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = mx.getThreadCpuTime(ids[i]);
    }
    return out;
  }

  private static MemorySegment random(Arena arena, long floats, SplittableRandom random) {
    MemorySegment seg = arena.allocate(floats * Float.BYTES, 64);
    for (long i = 0; i < floats; i++) {
      seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() * 2 - 1));
    }
    return seg;
  }
}
