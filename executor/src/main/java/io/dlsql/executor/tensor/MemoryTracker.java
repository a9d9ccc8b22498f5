package io.dlsql.executor.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the bytes of live off-heap tensors and buffers (now and the peak since the last reset),
 * so training can report the peak memory of an epoch and EXPLAIN ANALYZE the measured peak beside
 * the planner's estimate. Views do not count: only the allocation that owns the memory does.
 *
 * <p>What it counts is every owned {@link Tensor} and {@link IndexBuffer}: weights, batchnorm
 * statistics, parameter gradients (and a convolution's per-thread partial gradients), optimizer
 * state, the input batches, a network's activations, activation gradients, gradient scratch and
 * layout-converted copies (all from its pool, free buffers kept for reuse included), the im2col
 * or Winograd workspace its convolutions share, Winograd's transformed weights, dropout masks and
 * max-pooling indices. What it does not count: Java heap arrays (GEMM packing buffers and other
 * per-thread scratch on the heap, packed weight copies), and data outside tensors (Arrow tables,
 * the arenas training data is loaded into). The counts are process-wide.
 */
public final class MemoryTracker {
  private static final AtomicLong LIVE = new AtomicLong();
  private static final AtomicLong PEAK = new AtomicLong();

  private MemoryTracker() {}

  static void allocated(long bytes) {
    long now = LIVE.addAndGet(bytes);
    PEAK.accumulateAndGet(now, Math::max);
  }

  static void released(long bytes) {
    LIVE.addAndGet(-bytes);
  }

  /** Bytes held by live tensors now. */
  public static long liveBytes() {
    return LIVE.get();
  }

  /** The most bytes held at once since the last {@link #resetPeak()}. */
  public static long peakBytes() {
    return PEAK.get();
  }

  /** Starts a new peak measurement from the current live bytes. */
  public static void resetPeak() {
    PEAK.set(LIVE.get());
  }
}
