package io.dlsql.executor.kernel.elementwise;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.random.Rng;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Inverted dropout's forward over one sample: element i is dropped when draw i + 1 of {@code new
 * Rng(stream)} ({@link Rng#nextFloat}) is below p, and kept scaled otherwise. SplitMix64's n-th draw
 * is a function of {@code stream + n * GOLDEN_GAMMA} alone, so the Vector API path computes a
 * vector of draws at once (64-bit lanes, as many as the float lanes it masks) and produces exactly
 * the mask of the sequential generator.
 */
public final class DropoutKernel {
  private DropoutKernel() {}

  private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;
  private static final int L = LONGS.length();
  /** Float lanes matching the long lanes one for one. */
  private static final VectorSpecies<Float> FLOATS =
      VectorSpecies.of(float.class, VectorShape.forBitSize(L * Float.SIZE));
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  /** {@link Rng#nextFloat} keeps the top 24 bits of a draw. */
  private static final int FLOAT_BITS = 24;
  private static final int DROP_SHIFT = Long.SIZE - FLOAT_BITS;

  /**
   * The draws (top 24 bits, as integers) below which an element is dropped: {@code nextFloat() < p}
   * is {@code bits * 2^-24 < p}, exact in double, so it is {@code bits < ceil(p * 2^24)}.
   */
  static long threshold(float p) {
    return (long) Math.ceil((double) p * (1 << FLOAT_BITS));
  }

  // x, y, mask at [off, off + len): mask[off + i] = 0 if draw i + 1 of new Rng(stream) is below p,
  // else keep; y = x * mask.
  public static void forward(long stream, float p, float keep, MemorySegment x, MemorySegment y,
      MemorySegment mask, long off, int len) {
    long threshold = threshold(p);
    int i = 0;
    if (KernelSwitch.vector() && L > 1) {
      // Lane j starts at draw j + 1: stream + (j + 1) * GOLDEN_GAMMA.
      LongVector state = LongVector.zero(LONGS).addIndex(1).add(1).mul(Rng.GOLDEN_GAMMA).add(stream);
      LongVector step = LongVector.broadcast(LONGS, L * Rng.GOLDEN_GAMMA);
      FloatVector kept = FloatVector.broadcast(FLOATS, keep);
      FloatVector zero = FloatVector.zero(FLOATS);
      for (; i + L <= len; i += L) {
        LongVector z = state;
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(Rng.MIX_MULTIPLIER_1);
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(Rng.MIX_MULTIPLIER_2);
        z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
        VectorMask<Float> keepLanes =
            z.lanewise(VectorOperators.LSHR, DROP_SHIFT).compare(VectorOperators.GE, threshold).cast(FLOATS);
        FloatVector m = zero.blend(kept, keepLanes);
        long at = (off + i) * Float.BYTES;
        m.intoMemorySegment(mask, at, ORDER);
        FloatVector.fromMemorySegment(FLOATS, x, at, ORDER).mul(m).intoMemorySegment(y, at, ORDER);
        state = state.add(step);
      }
    }
    for (; i < len; i++) {
      long bits = Rng.finalizer(stream + (i + 1) * Rng.GOLDEN_GAMMA) >>> DROP_SHIFT;
      float k = bits < threshold ? 0f : keep;
      mask.setAtIndex(F32, off + i, k);
      y.setAtIndex(F32, off + i, x.getAtIndex(F32, off + i) * k);
    }
  }
}
