package io.dlsql.catalog;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One stored weight array: its shape, element type and little-endian bytes. The buffer is a
 * read-only view positioned at 0; its length always equals {@code elementCount() *
 * dtype.byteSize()}.
 */
public record NDArray(int[] shape, DType dtype, ByteBuffer data) {
  /** Bits a bfloat16 is shifted by relative to the float32 it truncates. */
  private static final int BFLOAT16_SHIFT = 16;

  private static final int UNSIGNED_SHORT_MASK = 0xFFFF;

  public NDArray {
    if (shape == null || dtype == null || data == null) {
      throw new IllegalArgumentException("shape, dtype and data are required");
    }
    shape = shape.clone();
    long count = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      count *= d;
    }
    long expected = count * dtype.byteSize();
    if (data.remaining() != expected) {
      throw new IllegalArgumentException(
          "array "
              + Arrays.toString(shape)
              + " "
              + dtype
              + " needs "
              + expected
              + " bytes, got "
              + data.remaining());
    }
    data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A FLOAT32 array holding a copy of {@code values}. */
  public static NDArray ofFloats(int[] shape, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new NDArray(shape, DType.FLOAT32, b);
  }

  /** An array of any type over a copy of little-endian {@code bytes}. */
  public static NDArray ofBytes(int[] shape, DType dtype, byte[] bytes) {
    return new NDArray(shape, dtype, ByteBuffer.wrap(bytes.clone()));
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  /** Buffer view positioned at 0 (a fresh duplicate, so callers may move its position). */
  @Override
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Number of elements (product of the shape). */
  public long elementCount() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** Size of the data in bytes. */
  public long byteSize() {
    return data.remaining();
  }

  /**
   * The values as floats: FLOAT32 as stored, BFLOAT16 and FLOAT16 widened. Integer arrays have no
   * single float meaning (quantized data needs its scale), so asking for them is a programming
   * error.
   */
  public float[] floats() {
    int n = Math.toIntExact(elementCount());
    float[] out = new float[n];
    ByteBuffer b = data();
    switch (dtype) {
      case FLOAT32 -> b.asFloatBuffer().get(out);
      case BFLOAT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.intBitsToFloat((b.getShort() & UNSIGNED_SHORT_MASK) << BFLOAT16_SHIFT);
        }
      }
      case FLOAT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.float16ToFloat(b.getShort());
        }
      }
      case INT8, INT32 -> throw new IllegalStateException("floats() on a " + dtype + " array");
    }
    return out;
  }

  /** A copy of the raw little-endian bytes. */
  public byte[] bytes() {
    byte[] out = new byte[(int) byteSize()];
    data().get(out);
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NDArray a
        && a.dtype == dtype
        && Arrays.equals(a.shape, shape)
        && a.data.equals(data);
  }

  @Override
  public int hashCode() {
    return (Arrays.hashCode(shape) * 31 + dtype.hashCode()) * 31 + data.hashCode();
  }

  @Override
  public String toString() {
    return "NDArray" + Arrays.toString(shape) + " " + dtype;
  }
}
