package io.dlsql.executor.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A float32 tensor over off-heap memory: a shape, a {@link Layout} and a {@link MemorySegment}.
 * The shape is logical ((N, C, H, W) for images in every layout); the layout fixes where each
 * element lives, so {@link #numel()} counts the floats in memory, which for NCHWc includes the
 * zero channels that pad the last block.
 * A tensor either owns its memory (made by {@link #zeros} or {@link #of}; {@link #close()} frees
 * it) or is a view of memory owned elsewhere ({@link #slice}, {@link #reshape}, {@link #wrap}),
 * whose {@code close()} does nothing. Owned memory is 64-byte aligned and counted by {@link
 * MemoryTracker}.
 */
public final class Tensor implements AutoCloseable {
  /** The element layout every kernel reads and writes tensors with. */
  public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

  /** Alignment of owned memory: a cache line, so vector loads of row starts never split lines. */
  private static final long ALIGNMENT = 64;

  private final MemorySegment data;
  private final Arena arena;
  private final int[] shape;
  private final Layout layout;
  private final long numel;
  private boolean closed;

  private Tensor(MemorySegment data, Arena arena, int[] shape, Layout layout) {
    this.data = data;
    this.arena = arena;
    this.shape = shape;
    this.layout = layout;
    this.numel = layout.storageSize(shape);
  }

  /** A new NCHW tensor of zeros that owns its memory. */
  public static Tensor zeros(int... shape) {
    return zeros(Layout.NCHW, shape);
  }

  /** A new tensor of zeros in {@code layout} that owns its memory (padding channels included, zero). */
  public static Tensor zeros(Layout layout, int... shape) {
    int[] s = shape.clone();
    count(s);
    long bytes = layout.storageSize(s) * Float.BYTES;
    Arena arena = Arena.ofShared();
    MemorySegment segment = arena.allocate(Math.max(bytes, Float.BYTES), ALIGNMENT);
    MemoryTracker.allocated(bytes);
    return new Tensor(segment.asSlice(0, bytes), arena, s, layout);
  }

  /** A new tensor holding a copy of {@code values}, which must have exactly as many elements as the shape. */
  public static Tensor of(float[] values, int... shape) {
    Tensor t = zeros(shape);
    if (values.length != t.numel) {
      t.close();
      throw new IllegalArgumentException(
          values.length + " values do not fill shape " + Arrays.toString(shape));
    }
    t.copyFrom(values);
    return t;
  }

  /** A view of existing memory (for example an Arrow buffer) as a tensor; closing it frees nothing. */
  public static Tensor wrap(MemorySegment segment, int... shape) {
    return wrap(segment, Layout.NCHW, shape);
  }

  /** A view of existing memory holding a tensor of {@code shape} in {@code layout}; closing it frees nothing. */
  public static Tensor wrap(MemorySegment segment, Layout layout, int... shape) {
    int[] s = shape.clone();
    count(s);
    long bytes = layout.storageSize(s) * Float.BYTES;
    if (segment.byteSize() < bytes) {
      throw new IllegalArgumentException(
          "segment of " + segment.byteSize() + " bytes is too small for shape " + Arrays.toString(s));
    }
    return new Tensor(segment.asSlice(0, bytes), null, s, layout);
  }

  private static long count(int[] shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n *= d;
    }
    return n;
  }

  /** The memory, {@code numel() * 4} bytes, in this tensor's layout. */
  public MemorySegment segment() {
    return data;
  }

  /** A copy of the shape. */
  public int[] shape() {
    return shape.clone();
  }

  /** Size of dimension {@code i}. */
  public int dim(int i) {
    return shape[i];
  }

  public int rank() {
    return shape.length;
  }

  /**
   * Floats in memory: the element count, and for NCHWc the count with the channels rounded up to
   * whole blocks (loops over memory use this; {@link #elementCount()} is the logical count).
   */
  public long numel() {
    return numel;
  }

  /** The logical element count, the product of the shape's dimensions. */
  public long elementCount() {
    return count(shape);
  }

  /** Floats in memory per index of the first (batch) dimension. */
  public long sampleSize() {
    return shape.length == 0 || shape[0] == 0 ? 0 : numel / shape[0];
  }

  public Layout layout() {
    return layout;
  }

  public long byteSize() {
    return numel * Float.BYTES;
  }

  /** Whether this tensor owns its memory (as opposed to being a view). */
  public boolean ownsMemory() {
    return arena != null;
  }

  private long offset(int... index) {
    if (index.length != shape.length) {
      throw new IllegalArgumentException(
          "index of rank " + index.length + " for a tensor of shape " + Arrays.toString(shape));
    }
    long off = 0;
    for (int i = 0; i < index.length; i++) {
      if (index[i] < 0 || index[i] >= shape[i]) {
        throw new IndexOutOfBoundsException(
            Arrays.toString(index) + " outside shape " + Arrays.toString(shape));
      }
      off = off * shape[i] + index[i];
    }
    if (layout == Layout.NCHW) {
      return off;
    }
    return index[0] * layout.imageSize(shape[1], shape[2], shape[3])
        + layout.offset(shape[1], shape[2], shape[3], index[1], index[2], index[3]);
  }

  public float get(int... index) {
    return data.getAtIndex(F32, offset(index));
  }

  public void set(float value, int... index) {
    data.setAtIndex(F32, offset(index), value);
  }

  /** Element {@code i} in memory order. */
  public float getFlat(long i) {
    return data.getAtIndex(F32, i);
  }

  public void setFlat(long i, float value) {
    data.setAtIndex(F32, i, value);
  }

  public void fill(float value) {
    if (value == 0f) {
      data.fill((byte) 0);
      return;
    }
    for (long i = 0; i < numel; i++) {
      data.setAtIndex(F32, i, value);
    }
  }

  /** Copies {@code src}, which must have the same number of elements and the same layout. */
  public void copyFrom(Tensor src) {
    if (src.layout != layout) {
      throw new IllegalArgumentException(
          "cannot copy a " + src.layout + " tensor into a " + layout + " one; convert it first");
    }
    if (src.numel != numel) {
      throw new IllegalArgumentException(
          "cannot copy " + Arrays.toString(src.shape) + " into " + Arrays.toString(shape));
    }
    MemorySegment.copy(src.data, 0, data, 0, byteSize());
  }

  /** Copies {@code values}, which must have exactly {@link #numel()} elements. */
  public void copyFrom(float[] values) {
    if (values.length != numel) {
      throw new IllegalArgumentException(
          values.length + " values for shape " + Arrays.toString(shape));
    }
    MemorySegment.copy(values, 0, data, F32, 0, values.length);
  }

  public float[] toFloatArray() {
    if (numel > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("tensor too large for a Java array: " + Arrays.toString(shape));
    }
    float[] out = new float[(int) numel];
    MemorySegment.copy(data, F32, 0, out, 0, out.length);
    return out;
  }

  /** A view of indices {@code [from, from + count)} of the first dimension. */
  public Tensor slice(int from, int count) {
    if (shape.length == 0 || from < 0 || count < 0 || from + count > shape[0]) {
      throw new IndexOutOfBoundsException(
          "slice [" + from + ", " + (from + count) + ") of shape " + Arrays.toString(shape));
    }
    long per = sampleSize();
    int[] s = shape.clone();
    s[0] = count;
    return new Tensor(data.asSlice(from * per * Float.BYTES, count * per * Float.BYTES), null, s, layout);
  }

  /** A view with another shape of the same element count (NCHW tensors only: other layouts are image batches). */
  public Tensor reshape(int... newShape) {
    int[] s = newShape.clone();
    if (layout != Layout.NCHW && !Arrays.equals(s, shape)) {
      throw new IllegalStateException("cannot reshape a " + layout + " tensor; convert it to NCHW first");
    }
    if (count(s) != numel) {
      throw new IllegalArgumentException(
          "cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(s));
    }
    return new Tensor(data, null, s, layout);
  }

  /** Frees owned memory; a view's close does nothing. Closing twice is harmless. */
  @Override
  public void close() {
    if (arena == null || closed) {
      return;
    }
    closed = true;
    arena.close();
    MemoryTracker.released(byteSize());
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape) + (layout == Layout.NCHW ? "" : " " + layout);
  }
}
