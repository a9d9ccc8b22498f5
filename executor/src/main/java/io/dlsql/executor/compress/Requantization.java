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
 * The epilogue of an int8 layer: int32 sums to real values, {@code y = acc * multiplier + bias},
 * where the multiplier is {@code inputScale * weightScale} of the output channel. Offsets are in
 * elements.
 */
final class Requantization {
  private Requantization() {}

  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_512;
  private static final int V = INTS.length();

  /** One multiplier and bias per row: {@code y[r][c] = acc[r][c] * mult[first + r] + bias[first + r]}. */
  static void perRow(MemorySegment acc, int rows, int cols, float[] mult, float[] bias, int first,
      MemorySegment y, long yOff) {
    boolean vector = Gemm.variant() == Gemm.Variant.VECTOR;
    for (int r = 0; r < rows; r++) {
      float m = mult[first + r];
      float b = bias[first + r];
      long a = (long) r * cols;
      long o = yOff + (long) r * cols;
      int c = 0;
      if (vector) {
        FloatVector mv = FloatVector.broadcast(FLOATS, m);
        FloatVector bv = FloatVector.broadcast(FLOATS, b);
        for (; c + V <= cols; c += V) {
          FloatVector f = (FloatVector) IntVector.fromMemorySegment(INTS, acc, (a + c) * Integer.BYTES, ORDER)
              .convert(VectorOperators.I2F, 0);
          f.fma(mv, bv).intoMemorySegment(y, (o + c) * Float.BYTES, ORDER);
        }
      }
      for (; c < cols; c++) {
        y.setAtIndex(F32, o + c, Math.fma((float) acc.getAtIndex(I32, a + c), m, b));
      }
    }
  }

  /** One multiplier and bias per column: {@code y[r][c] = acc[r][c] * mult[c] + bias[c]}. */
  static void perColumn(MemorySegment acc, int rows, int cols, float[] mult, float[] bias,
      MemorySegment y, long yOff) {
    boolean vector = Gemm.variant() == Gemm.Variant.VECTOR;
    for (int r = 0; r < rows; r++) {
      long a = (long) r * cols;
      long o = yOff + (long) r * cols;
      int c = 0;
      if (vector) {
        for (; c + V <= cols; c += V) {
          FloatVector f = (FloatVector) IntVector.fromMemorySegment(INTS, acc, (a + c) * Integer.BYTES, ORDER)
              .convert(VectorOperators.I2F, 0);
          f.fma(FloatVector.fromArray(FLOATS, mult, c), FloatVector.fromArray(FLOATS, bias, c))
              .intoMemorySegment(y, (o + c) * Float.BYTES, ORDER);
        }
      }
      for (; c < cols; c++) {
        y.setAtIndex(F32, o + c, Math.fma((float) acc.getAtIndex(I32, a + c), mult[c], bias[c]));
      }
    }
  }
}
