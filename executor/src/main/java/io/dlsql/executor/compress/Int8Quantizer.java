package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Gemm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Symmetric int8 quantization: {@code q = clamp(round(x / scale), -127, 127)} with rounding half
 * up, zero point 0 (so zero padding stays exact and {@link Int8Gemm} needs no offset terms).
 * Weights get one scale per output channel ({@code max |W[o]| / 127}); activations one scale per
 * tensor from calibration.
 */
public final class Int8Quantizer {
  private Int8Quantizer() {}

  /** The largest quantized magnitude; -128 is never produced. */
  public static final int QMAX = Int8Gemm.MAX_MAGNITUDE;
  /** Offset that makes every clamped value positive, so truncation toward zero is floor. */
  private static final float ROUNDING_OFFSET = QMAX + 0.5f;

  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_512;
  private static final int V = FLOATS.length();

  /** The scale that maps {@code [-range, range]} onto {@code [-127, 127]}; 1 for an all-zero range. */
  public static float scaleFor(double range) {
    return range > 0 && Double.isFinite(range) ? (float) (range / QMAX) : 1f;
  }

  /** One value: clamp, then floor(v + 0.5) computed as floor(v + 127.5) - 127 (the vector path's order). */
  public static byte quantize(float x, float inverseScale) {
    float v = Math.min(Math.max(x * inverseScale, -QMAX), QMAX);
    return (byte) ((int) (v + ROUNDING_OFFSET) - QMAX);
  }

  /** Per-output-channel quantization of a weight (rows, per-row values): codes and one scale per row. */
  public record ChannelQuantized(byte[] codes, float[] scales, int rows, int columns) {
    /** The fp32 weights the codes stand for: {@code codes * scale[row]}. */
    public float[] dequantize() {
      float[] out = new float[codes.length];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < columns; c++) {
          out[r * columns + c] = codes[r * columns + c] * scales[r];
        }
      }
      return out;
    }
  }

  /** Quantizes {@code w} (rows x columns, row-major) with a symmetric scale per row. */
  public static ChannelQuantized perChannel(float[] w, int rows) {
    if (rows <= 0 || w.length % rows != 0) {
      throw new IllegalArgumentException(w.length + " weights do not split into " + rows + " channels");
    }
    int columns = w.length / rows;
    byte[] codes = new byte[w.length];
    float[] scales = new float[rows];
    for (int r = 0; r < rows; r++) {
      double max = 0;
      for (int c = 0; c < columns; c++) {
        max = Math.max(max, Math.abs(w[r * columns + c]));
      }
      scales[r] = scaleFor(max);
      float inv = 1f / scales[r];
      for (int c = 0; c < columns; c++) {
        codes[r * columns + c] = quantize(w[r * columns + c], inv);
      }
    }
    return new ChannelQuantized(codes, scales, rows, columns);
  }

  /**
   * Quantizes {@code count} floats at {@code src[srcOff]} into their int8 codes held as fp32
   * numbers at {@code dst[dstOff]} (element offsets): the operands of the fp32-codes lowering,
   * exactly the values {@link #quantize(float, float)} gives.
   */
  public static void quantizeToCodes(
      MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long count, float inverseScale) {
    long i = 0;
    if (Gemm.variant() == Gemm.Variant.VECTOR) {
      FloatVector inv = FloatVector.broadcast(FLOATS, inverseScale);
      for (; i + V <= count; i += V) {
        codes(src, srcOff + i, inv).convert(VectorOperators.I2F, 0).reinterpretAsFloats()
            .intoMemorySegment(dst, (dstOff + i) * Float.BYTES, ORDER);
      }
    }
    for (; i < count; i++) {
      dst.setAtIndex(F32, dstOff + i, quantize(src.getAtIndex(F32, srcOff + i), inverseScale));
    }
  }

  /** Quantizes {@code count} floats at {@code src[srcOff]} into bytes at {@code dst[dstOff]} (element offsets). */
  public static void quantize(
      MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long count, float inverseScale) {
    long i = 0;
    if (Gemm.variant() == Gemm.Variant.VECTOR) {
      FloatVector inv = FloatVector.broadcast(FLOATS, inverseScale);
      for (; i + V <= count; i += V) {
        codes(src, srcOff + i, inv).convertShape(VectorOperators.I2B, jdk.incubator.vector.ByteVector.SPECIES_128, 0)
            .intoMemorySegment(dst, dstOff + i, ORDER);
      }
    }
    for (; i < count; i++) {
      dst.set(ValueLayout.JAVA_BYTE, dstOff + i, quantize(src.getAtIndex(F32, srcOff + i), inverseScale));
    }
  }

  /** The codes of the {@link #V} floats at {@code src[at]}, as int32 lanes: {@link #quantize(float, float)} per lane. */
  private static IntVector codes(MemorySegment src, long at, FloatVector inverseScale) {
    FloatVector v = FloatVector.fromMemorySegment(FLOATS, src, at * Float.BYTES, ORDER)
        .mul(inverseScale).max(-QMAX).min(QMAX).add(ROUNDING_OFFSET);
    return ((IntVector) v.convert(VectorOperators.F2I, 0)).sub(QMAX);
  }
}
