package io.dlsql.executor.graph;

import io.dlsql.executor.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The activation and gradient buffers of one {@link Network}: owned flat tensors handed out and
 * taken back as a training step's tensors come alive and die, reused by size so a steady-state
 * step allocates nothing. A released buffer stays allocated for reuse only while the pool holds
 * no more than the most bytes ever in use at once: a request the free buffers cannot serve first
 * frees free buffers of other sizes down to that level. So the memory the pool holds, which
 * {@link io.dlsql.executor.tensor.MemoryTracker} counts, never exceeds the liveness peak of the
 * schedule it serves, whatever order sizes are asked in.
 */
final class TensorPool implements AutoCloseable {
  private final Map<Long, ArrayDeque<Tensor>> free = new HashMap<>();
  private long inUseBytes;
  private long freeBytes;
  private long peakInUseBytes;

  /** A buffer of {@code floats} floats, contents undefined. */
  Tensor take(long floats) {
    long bytes = floats * Float.BYTES;
    inUseBytes += bytes;
    peakInUseBytes = Math.max(peakInUseBytes, inUseBytes);
    ArrayDeque<Tensor> same = free.get(floats);
    if (same != null && !same.isEmpty()) {
      freeBytes -= bytes;
      return same.pop();
    }
    trimTo(peakInUseBytes - inUseBytes);
    return Tensor.zeros(Math.toIntExact(floats));
  }

  /** Takes back a buffer from {@link #take}. */
  void give(Tensor t) {
    long bytes = t.byteSize();
    inUseBytes -= bytes;
    freeBytes += bytes;
    free.computeIfAbsent(t.numel(), k -> new ArrayDeque<>()).push(t);
  }

  /** Frees free buffers, largest first, until at most {@code keepBytes} remain free. */
  private void trimTo(long keepBytes) {
    while (freeBytes > keepBytes) {
      long largest = -1;
      for (Map.Entry<Long, ArrayDeque<Tensor>> e : free.entrySet()) {
        if (!e.getValue().isEmpty() && e.getKey() > largest) {
          largest = e.getKey();
        }
      }
      Tensor t = free.get(largest).pop();
      freeBytes -= t.byteSize();
      t.close();
    }
  }

  /** Bytes of buffers handed out and not yet given back. */
  long inUseBytes() {
    return inUseBytes;
  }

  /** The most bytes in use at once since the last {@link #clear()}. */
  long peakInUseBytes() {
    return peakInUseBytes;
  }

  /** Frees every free buffer and forgets the peak (buffers in use stay theirs). */
  void clear() {
    for (Iterator<ArrayDeque<Tensor>> it = free.values().iterator(); it.hasNext(); ) {
      for (Tensor t : it.next()) {
        t.close();
      }
      it.remove();
    }
    freeBytes = 0;
    peakInUseBytes = inUseBytes;
  }

  @Override
  public void close() {
    clear();
  }
}
