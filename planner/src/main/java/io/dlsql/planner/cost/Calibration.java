package io.dlsql.planner.cost;

import io.dlsql.catalog.Catalog;
import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Measures the machine's ceilings once: the executor's GEMM on a square problem that fits the
 * caches' blocking, and a large memory copy split across the kernel thread pool, at each thread
 * count. Each measurement repeats until it has run long enough to be stable and keeps the best
 * rate (the ceiling, not the average under other load). {@link #loadOrMeasure} stores the result
 * in the catalog's tuning records so it runs once per data directory.
 */
public final class Calibration {
  /** m = n = k of the calibration GEMM. */
  static final int GEMM_SIZE = 256;
  /** Bytes copied per bandwidth measurement: well beyond the last-level cache. */
  static final long COPY_BYTES = 64L << 20;
  /** Each measurement repeats for at least this long, and at least {@link #MIN_REPEATS} times. */
  static final long MIN_MEASURE_NANOS = 100_000_000L;
  static final int MIN_REPEATS = 3;
  /** Warm-up: at least this many runs, until two in a row agree this closely, at most this long. */
  static final int MIN_WARMUP_RUNS = 3;
  static final double STEADY_TOLERANCE = 0.1;
  static final long MAX_WARMUP_NANOS = 3_000_000_000L;
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

  private Calibration() {}

  /** The ceilings at 1, 2, 4, ... threads up to the number of processors (which is always included). */
  public static MachineProfile measure() {
    int max = Runtime.getRuntime().availableProcessors();
    List<Integer> counts = new ArrayList<>();
    for (int t = 1; t < max; t *= 2) {
      counts.add(t);
    }
    counts.add(max);
    return measure(counts);
  }

  /**
   * The ceilings on {@code clock}: the wall clock at every thread count ({@link #measure()}), or the
   * thread CPU clock at one thread (steady on a loaded machine, where the wall-clock best rate of a
   * short run can be a fraction of the machine's).
   */
  public static MachineProfile measure(Analyzer.Clock clock) {
    return clock == Analyzer.Clock.WALL ? measure() : measure(List.of(1), clock);
  }

  /** The ceilings at these thread counts (1 must be among them), on the wall clock. */
  public static MachineProfile measure(List<Integer> threadCounts) {
    return measure(threadCounts, Analyzer.Clock.WALL);
  }

  private static MachineProfile measure(List<Integer> threadCounts, Analyzer.Clock clock) {
    LongSupplier now = clock.source();
    int before = Parallel.get().threads();
    TreeMap<Integer, MachineProfile.Ceilings> out = new TreeMap<>();
    try (Arena arena = Arena.ofShared()) {
      MemorySegment a = arena.allocate((long) GEMM_SIZE * GEMM_SIZE * Float.BYTES, 64);
      MemorySegment b = arena.allocate((long) GEMM_SIZE * GEMM_SIZE * Float.BYTES, 64);
      MemorySegment c = arena.allocate((long) GEMM_SIZE * GEMM_SIZE * Float.BYTES, 64);
      for (long i = 0; i < (long) GEMM_SIZE * GEMM_SIZE; i++) {
        a.setAtIndex(F32, i, (i % 7) * 0.25f);
        b.setAtIndex(F32, i, (i % 5) * 0.5f);
      }
      MemorySegment src = arena.allocate(COPY_BYTES, 64);
      MemorySegment dst = arena.allocate(COPY_BYTES, 64);
      src.fill((byte) 1);
      for (int t : threadCounts) {
        Parallel.setThreads(t);
        out.put(t, new MachineProfile.Ceilings(gemmGflops(a, b, c, now), bandwidthGbs(src, dst, now)));
      }
    } finally {
      Parallel.setThreads(before);
    }
    return new MachineProfile(out);
  }

  /** The profile stored in the catalog, or a fresh measurement, stored there. */
  public static MachineProfile loadOrMeasure(Catalog catalog) {
    MachineProfile stored = MachineProfile.fromTuningRecords(catalog.tuningRecords());
    if (stored != null) {
      return stored;
    }
    MachineProfile measured = measure();
    catalog.putTuningRecords(measured.toTuningRecords());
    return measured;
  }

  private static double gemmGflops(MemorySegment a, MemorySegment b, MemorySegment c, LongSupplier now) {
    int n = GEMM_SIZE;
    double flops = 2.0 * n * n * n;
    warmUp(() -> Gemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n));
    double best = 0;
    long spent = 0;
    for (int rep = 0; rep < MIN_REPEATS || spent < MIN_MEASURE_NANOS; rep++) {
      long start = now.getAsLong();
      Gemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
      long nanos = Math.max(1, now.getAsLong() - start);
      spent += nanos;
      best = Math.max(best, flops / nanos);
    }
    return best;
  }

  /**
   * Runs {@code body} until the JIT has compiled it: at least {@link #MIN_WARMUP_RUNS} runs, then on
   * until a run is within {@link #STEADY_TOLERANCE} of the one before, at most {@link
   * #MAX_WARMUP_NANOS}. Vector API code runs a hundred times slower before C2 compiles it: one
   * warm-up call measured a 0.14 GFLOP/s GEMM ceiling.
   */
  private static void warmUp(Runnable body) {
    long spent = 0;
    long previous = -1;
    for (int run = 0; spent < MAX_WARMUP_NANOS; run++) {
      long start = System.nanoTime();
      body.run();
      long took = System.nanoTime() - start;
      spent += took;
      if (run + 1 >= MIN_WARMUP_RUNS && previous > 0 && Math.abs(took - previous) <= STEADY_TOLERANCE * previous) {
        return;
      }
      previous = took;
    }
  }

  private static double bandwidthGbs(MemorySegment src, MemorySegment dst, LongSupplier now) {
    Parallel pool = Parallel.get();
    int chunks = pool.threads();
    long chunkBytes = COPY_BYTES / chunks;
    Runnable copy = () -> pool.forRange(chunks, 1, (chunk, from, to) -> {
      for (int i = from; i < to; i++) {
        MemorySegment.copy(src, i * chunkBytes, dst, i * chunkBytes, chunkBytes);
      }
    });
    warmUp(copy);
    double best = 0;
    long spent = 0;
    for (int rep = 0; rep < MIN_REPEATS || spent < MIN_MEASURE_NANOS; rep++) {
      long start = now.getAsLong();
      copy.run();
      long nanos = Math.max(1, now.getAsLong() - start);
      spent += nanos;
      // A copy reads and writes every byte.
      best = Math.max(best, 2.0 * COPY_BYTES / nanos);
    }
    return best;
  }
}
