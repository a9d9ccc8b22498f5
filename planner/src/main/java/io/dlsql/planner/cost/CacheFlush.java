package io.dlsql.planner.cost;

import io.dlsql.executor.kernel.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Evicts a kernel's operands from the CPU caches before ANALYZE MODEL times it, so a tuning record
 * is what the kernel costs inside a network: there a layer reads inputs written several layers
 * earlier and weights last touched a step ago, while a layer run again and again on the same
 * buffers finds them in the last-level cache. Writing a buffer larger than that cache from every
 * kernel thread replaces its lines (and each core's private caches) with the buffer's.
 *
 * <p>Measured on the build machine (AMD EPYC, 2 cores, 32 MiB L3; 2 threads, wall clock, load
 * average about 3, medians of 21 runs; bench/README.md, "Estimates against measurements"): a
 * residual add of 256 x 16 x 28 x 28 floats 1.2-1.6x slower with its operands evicted, a ReLU of
 * that size 1.5-2x, a 3x3 convolution on those maps 1.0-1.1x; the same layers inside ResNet-20
 * measured 2.7x (add) and 1.1x (convolution) their ANALYZE record of hot runs.
 *
 * <p>Not tracked by {@code MemoryTracker}: it is the measurement's own memory, not a plan's.
 */
public final class CacheFlush implements AutoCloseable {
  /**
   * Bytes written per eviction: twice the largest last-level cache of the machines this runs on
   * (32 MiB on the build machine), so no line of the kernel's operands survives.
   */
  static final long EVICT_BYTES = 64L << 20;

  private final Arena arena = Arena.ofShared();
  private final MemorySegment buffer = arena.allocate(EVICT_BYTES, 64);
  private byte fill;

  /** Writes the whole buffer, split across the kernel pool's threads so every core's caches are replaced. */
  public void evict() {
    Parallel pool = Parallel.get();
    int chunks = pool.threads();
    long chunkBytes = EVICT_BYTES / chunks;
    // A new value each time, so the writes are never skipped as already done.
    byte value = ++fill;
    pool.forRange(chunks, 1, (chunk, from, to) -> {
      for (int i = from; i < to; i++) {
        buffer.asSlice(i * chunkBytes, chunkBytes).fill(value);
      }
    });
  }

  @Override
  public void close() {
    arena.close();
  }
}
