package io.dlsql.executor.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An off-heap array of ints that a layer keeps between forward and backward (max-pooling's argmax
 * positions), counted by {@link MemoryTracker} like tensors.
 */
public final class IndexBuffer implements AutoCloseable {
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;

  private final Arena arena = Arena.ofShared();
  private final MemorySegment data;
  private final long length;
  private boolean closed;

  public IndexBuffer(long length) {
    this.length = length;
    this.data = arena.allocate(Math.max(1, length) * Integer.BYTES, Long.BYTES);
    MemoryTracker.allocated(length * Integer.BYTES);
  }

  public long length() {
    return length;
  }

  /** The ints, for vector kernels. */
  public MemorySegment segment() {
    return data;
  }

  public int get(long i) {
    return data.getAtIndex(I32, i);
  }

  public void set(long i, int value) {
    data.setAtIndex(I32, i, value);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    arena.close();
    MemoryTracker.released(length * Integer.BYTES);
  }
}
