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
 * The epilogue of an int8 layer: integer sums to real values, {@code y = float(acc) * multiplier +
 * bias} (one fused multiply-add, so every lowering that produces the same integers produces the
 * same floats), where the multiplier is {@code inputScale * weightScale} of the output channel,
 * optionally followed by ReLU. The sums arrive as int32 or as fp32 numbers holding exact integers
 * (the fp32-codes lowering); {@link #toFloat} turns the former into the latter exactly as the
 * rescale would. Offsets are in elements.
 */
final class Requantization {
  private Requantization() {}

  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_512;
  private static final int V = INTS.length();

  private static boolean vector() {
    return Gemm.variant() == Gemm.Variant.VECTOR;
  }

  /** {@code dst[dstOff + i] = (float) acc[i]} for {@code count} int32 sums. */
  static void toFloat(MemorySegment acc, long count, MemorySegment dst, long dstOff) {
    long i = 0;
    if (vector()) {
      for (; i + V <= count; i += V) {
        IntVector.fromMemorySegment(INTS, acc, i * Integer.BYTES, ORDER).convert(VectorOperators.I2F, 0)
            .reinterpretAsFloats().intoMemorySegment(dst, (dstOff + i) * Float.BYTES, ORDER);
      }
    }
    for (; i < count; i++) {
      dst.setAtIndex(F32, dstOff + i, (float) acc.getAtIndex(I32, i));
    }
  }

  /**
   * One multiplier and bias per row of fp32 sums: {@code y[r][c] = act(sums[r][c] * mult[first + r]
   * + bias[first + r] [+ residual[r][c]])}, the residual (may be null) added after the rescale as a
   * separate ADD would; y may be the sums themselves (in place).
   */
  static void perRow(MemorySegment sums, long sumsOff, int rows, int cols, float[] mult, float[] bias, int first,
      MemorySegment residual, long residualOff, boolean relu, MemorySegment y, long yOff) {
    boolean vector = vector();
    for (int r = 0; r < rows; r++) {
      float m = mult[first + r];
      float b = bias[first + r];
      long a = sumsOff + (long) r * cols;
      long o = yOff + (long) r * cols;
      long res = residualOff + (long) r * cols;
      int c = 0;
      if (vector) {
        FloatVector mv = FloatVector.broadcast(FLOATS, m);
        FloatVector bv = FloatVector.broadcast(FLOATS, b);
        for (; c + V <= cols; c += V) {
          FloatVector f = FloatVector.fromMemorySegment(FLOATS, sums, (a + c) * Float.BYTES, ORDER).fma(mv, bv);
          if (residual != null) {
            f = f.add(FloatVector.fromMemorySegment(FLOATS, residual, (res + c) * Float.BYTES, ORDER));
          }
          (relu ? f.max(0f) : f).intoMemorySegment(y, (o + c) * Float.BYTES, ORDER);
        }
      }
      for (; c < cols; c++) {
        float v = Math.fma(sums.getAtIndex(F32, a + c), m, b);
        if (residual != null) {
          v += residual.getAtIndex(F32, res + c);
        }
        y.setAtIndex(F32, o + c, relu ? Math.max(v, 0f) : v);
      }
    }
  }

  /** One multiplier and bias per column of fp32 sums: {@code y[r][c] = act(sums[r][c] * mult[c] + bias[c])}. */
  static void perColumn(MemorySegment sums, long sumsOff, int rows, int cols, float[] mult, float[] bias,
      boolean relu, MemorySegment y, long yOff) {
    boolean vector = vector();
    for (int r = 0; r < rows; r++) {
      long a = sumsOff + (long) r * cols;
      long o = yOff + (long) r * cols;
      int c = 0;
      if (vector) {
        for (; c + V <= cols; c += V) {
          FloatVector f = FloatVector.fromMemorySegment(FLOATS, sums, (a + c) * Float.BYTES, ORDER)
              .fma(FloatVector.fromArray(FLOATS, mult, c), FloatVector.fromArray(FLOATS, bias, c));
          (relu ? f.max(0f) : f).intoMemorySegment(y, (o + c) * Float.BYTES, ORDER);
        }
      }
      for (; c < cols; c++) {
        float v = Math.fma(sums.getAtIndex(F32, a + c), mult[c], bias[c]);
        y.setAtIndex(F32, o + c, relu ? Math.max(v, 0f) : v);
      }
    }
  }
}
