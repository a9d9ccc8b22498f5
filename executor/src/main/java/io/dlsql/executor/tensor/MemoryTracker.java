package io.dlsql.executor.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the bytes of live off-heap tensors and buffers (now and the peak since the last reset),
 * so training can report the peak memory of an epoch. Views do not count: only the allocation
 * that owns the memory does.
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
