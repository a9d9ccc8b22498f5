package io.dlsql.planner.cost;

import io.dlsql.executor.kernel.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Evicts a kernel's operands from the CPU caches before ANALYZE MODEL times it, so a tuning record
 * is what the kernel costs inside a network: there a layer finds in cache only what the layer
 * before it just wrote, and reads other inputs (a residual block's input), saved tensors and
 * weights, last touched layers or a step ago, from memory, while a layer run again and again on
 * the same buffers finds all of them in the last-level cache. Writing a buffer larger than that cache from every
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

  /** One load per line brings the whole line into the caches. */
  static final int CACHE_LINE_BYTES = 64;

  private final Arena arena = Arena.ofShared();
  /** Where the reads of {@link #evictAllBut} go, so the JIT cannot drop them. */
  private long sink;
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

  /**
   * Evicts everything, then reads {@code fresh} back (one load per cache line) so it sits in the
   * caches as a tensor just written by the previous layer does; null: evict only.
   */
  public void evictAllBut(MemorySegment fresh) {
    evict();
    if (fresh == null) {
      return;
    }
    long sum = 0;
    for (long at = 0; at + Long.BYTES <= fresh.byteSize(); at += CACHE_LINE_BYTES) {
      sum += fresh.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
    }
    sink += sum;
  }

  @Override
  public void close() {
    arena.close();
  }
}
