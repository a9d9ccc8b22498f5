package io.dlsql.executor.kernel.pool;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max pooling with 2x2 windows, stride 2 and no padding over NCHW planes (the pooling of most
 * CNNs), forward and backward. Each window's winner is recorded in two bits, not as an input
 * position: whether it is in the window's right column and whether it is in its bottom row. Per
 * output row, one int holds the bits of 16 consecutive outputs (bits 0-15: right column, bits
 * 16-31: bottom row), so training keeps 2 bits per output instead of a 32-bit position, and the
 * Vector API path turns comparison masks into these bits with one move each.
 *
 * <p>Semantics match the general pooling loop: the first maximum in row order wins ties, and NaN
 * wins over numbers (the first NaN among several). The Vector API path and the scalar path (taken
 * when {@link KernelSwitch#vector()} is off) write the same bits, so either backward reads either
 * forward's record.
 */
public final class MaxPool2x2 {
  private MaxPool2x2() {}

  /** Outputs whose winners one record int holds. */
  public static final int OUTPUTS_PER_WORD = 16;
  private static final int BOTTOM_SHIFT = 16;
  private static final int LOW_BITS = 0xFFFF;

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int V = SPECIES.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
  /** Whether one record word covers whole vectors (species of 4, 8 or 16 lanes); otherwise scalar. */
  private static final boolean VECTOR_FITS = OUTPUTS_PER_WORD % V == 0;
  /** Lane j of the result takes lane 2j (EVEN) or 2j+1 (ODD) of two vectors read as one of 2V lanes. */
  private static final FloatVector EVEN = indices(j -> 2 * j);
  private static final FloatVector ODD = indices(j -> 2 * j + 1);
  /** Interleaves two vectors a, b into (a0 b0 a1 b1 ...): the first V lanes (LOW) and the next V (HIGH). */
  private static final FloatVector ZIP_LOW = indices(j -> (j & 1) * V + j / 2);
  private static final FloatVector ZIP_HIGH = indices(j -> (j & 1) * V + (V + j) / 2);

  /**
   * Lane j holds {@code index.applyAsInt(j)}: a table index for the two-vector {@code selectFrom},
   * which reads its two sources as one table of 2V lanes and compiles to one permute (the
   * two-vector {@code rearrange} was 3.5x slower here: two permutes and a blend).
   */
  private static FloatVector indices(java.util.function.IntUnaryOperator index) {
    float[] lanes = new float[V];
    for (int j = 0; j < V; j++) {
      lanes[j] = index.applyAsInt(j);
    }
    return FloatVector.fromArray(SPECIES, lanes, 0);
  }

  /** Record ints per output row of {@code outW} outputs. */
  public static int wordsPerRow(int outW) {
    return (outW + OUTPUTS_PER_WORD - 1) / OUTPUTS_PER_WORD;
  }

  /** Record ints for {@code planes} planes of {@code outH} x {@code outW} outputs. */
  public static long recordInts(long planes, int outH, int outW) {
    return planes * outH * wordsPerRow(outW);
  }

  // x: (planes, H, W) -> y: (planes, H/2, W/2), y = max over each 2x2 window; a trailing odd row or
  // column is not read. record (null: evaluation, nothing kept) gets the winners of planes [from, to).
  public static void forward(MemorySegment x, MemorySegment y, MemorySegment record, int h, int w, int from,
      int to) {
    int outH = h / 2;
    int outW = w / 2;
    int words = wordsPerRow(outW);
    for (int p = from; p < to; p++) {
      for (int oy = 0; oy < outH; oy++) {
        long row0 = (long) p * h * w + (long) 2 * oy * w;
        long out = ((long) p * outH + oy) * outW;
        long rec = ((long) p * outH + oy) * words;
        if (KernelSwitch.vector() && VECTOR_FITS) {
          forwardRowVector(x, row0, row0 + w, y, out, record, rec, outW);
        } else {
          forwardRowScalar(x, row0, row0 + w, y, out, record, rec, outW);
        }
      }
    }
  }

  private static void forwardRowVector(MemorySegment x, long row0, long row1, MemorySegment y, long out,
      MemorySegment record, long rec, int outW) {
    int right = 0;
    int bottom = 0;
    for (int ox = 0; ox < outW; ox += V) {
      int count = Math.min(V, outW - ox);
      long in = 2L * ox;
      // Lanes past the row are masked off in the loads, the store and the bits.
      VectorMask<Float> first = SPECIES.indexInRange(0, 2 * count);
      VectorMask<Float> second = SPECIES.indexInRange(V, 2 * count);
      boolean full = count == V;
      FloatVector t0 = load(x, row0 + in, first, full);
      FloatVector t1 = load(x, row0 + in + V, second, full);
      FloatVector b0 = load(x, row1 + in, first, full);
      FloatVector b1 = load(x, row1 + in + V, second, full);
      FloatVector a = EVEN.selectFrom(t0, t1);
      FloatVector b = ODD.selectFrom(t0, t1);
      FloatVector c = EVEN.selectFrom(b0, b1);
      FloatVector d = ODD.selectFrom(b0, b1);
      VectorMask<Float> takeB = wins(b, a);
      FloatVector top = a.blend(b, takeB);
      VectorMask<Float> takeD = wins(d, c);
      FloatVector low = c.blend(d, takeD);
      VectorMask<Float> takeLow = wins(low, top);
      FloatVector best = top.blend(low, takeLow);
      if (count == V) {
        best.intoMemorySegment(y, (out + ox) * Float.BYTES, ORDER);
      } else {
        best.intoMemorySegment(y, (out + ox) * Float.BYTES, ORDER, SPECIES.indexInRange(0, count));
      }
      if (record == null) {
        continue;
      }
      int lane = ox % OUTPUTS_PER_WORD;
      long valid = (1L << count) - 1;
      VectorMask<Float> inRight = takeB.andNot(takeLow).or(takeD.and(takeLow));
      right |= (int) ((inRight.toLong() & valid) << lane);
      bottom |= (int) ((takeLow.toLong() & valid) << lane);
      if (lane + V == OUTPUTS_PER_WORD || ox + V >= outW) {
        record.setAtIndex(I32, rec + ox / OUTPUTS_PER_WORD, right & LOW_BITS | bottom << BOTTOM_SHIFT);
        right = 0;
        bottom = 0;
      }
    }
  }

  /**
   * Whether {@code challenger}, later in row order, replaces {@code holder} as a window's maximum:
   * when it is larger, or NaN, unless the holder is already NaN. That is: the holder is a number
   * and the challenger is not at most the holder.
   */
  private static VectorMask<Float> wins(FloatVector challenger, FloatVector holder) {
    return holder.compare(VectorOperators.EQ, holder).andNot(challenger.compare(VectorOperators.LE, holder));
  }

  private static boolean wins(float challenger, float holder) {
    return holder == holder & !(challenger <= holder);
  }

  private static void forwardRowScalar(MemorySegment x, long row0, long row1, MemorySegment y, long out,
      MemorySegment record, long rec, int outW) {
    int right = 0;
    int bottom = 0;
    for (int ox = 0; ox < outW; ox++) {
      long in = 2L * ox;
      float a = x.getAtIndex(F32, row0 + in);
      float b = x.getAtIndex(F32, row0 + in + 1);
      float c = x.getAtIndex(F32, row1 + in);
      float d = x.getAtIndex(F32, row1 + in + 1);
      boolean takeB = wins(b, a);
      boolean takeD = wins(d, c);
      float top = takeB ? b : a;
      float low = takeD ? d : c;
      boolean takeLow = wins(low, top);
      y.setAtIndex(F32, out + ox, takeLow ? low : top);
      if (record == null) {
        continue;
      }
      int lane = ox % OUTPUTS_PER_WORD;
      right |= ((takeLow ? takeD : takeB) ? 1 : 0) << lane;
      bottom |= (takeLow ? 1 : 0) << lane;
      if (lane == OUTPUTS_PER_WORD - 1 || ox == outW - 1) {
        record.setAtIndex(I32, rec + ox / OUTPUTS_PER_WORD, right | bottom << BOTTOM_SHIFT);
        right = 0;
        bottom = 0;
      }
    }
  }

  // Differentiates the forward: dx (planes, H, W) gets each dy at its window's winner and zero
  // everywhere else (a trailing odd row or column included). Writes every element of dx in planes
  // [from, to), so dx needs no clearing first.
  public static void backward(MemorySegment dy, MemorySegment dx, MemorySegment record, int h, int w, int from,
      int to) {
    int outH = h / 2;
    int outW = w / 2;
    int words = wordsPerRow(outW);
    boolean vector = KernelSwitch.vector() && VECTOR_FITS;
    // Rows of at most half a vector waste most lanes: there, clearing the plane and storing each
    // gradient at its winner measured faster (14x14 maps: 1.3 against 1.8 ms per batch of 128x64).
    boolean scatter = vector && outW <= V / 2;
    for (int p = from; p < to; p++) {
      long plane = (long) p * h * w;
      if (scatter) {
        dx.asSlice(plane * Float.BYTES, (long) h * w * Float.BYTES).fill((byte) 0);
      }
      for (int oy = 0; oy < outH; oy++) {
        long row0 = plane + (long) 2 * oy * w;
        long out = ((long) p * outH + oy) * outW;
        long rec = ((long) p * outH + oy) * words;
        if (scatter) {
          backwardRowScatter(dy, out, dx, row0, w, record, rec, outW);
          continue;
        }
        if (vector) {
          backwardRowVector(dy, out, dx, row0, row0 + w, record, rec, outW);
        } else {
          backwardRowScalar(dy, out, dx, row0, row0 + w, record, rec, outW);
        }
        if (w % 2 != 0) {
          dx.setAtIndex(F32, row0 + w - 1, 0f);
          dx.setAtIndex(F32, row0 + 2L * w - 1, 0f);
        }
      }
      if (h % 2 != 0) {
        dx.asSlice((plane + (long) (h - 1) * w) * Float.BYTES, (long) w * Float.BYTES).fill((byte) 0);
      }
    }
  }

  private static void backwardRowVector(MemorySegment dy, long out, MemorySegment dx, long row0, long row1,
      MemorySegment record, long rec, int outW) {
    FloatVector zero = FloatVector.zero(SPECIES);
    int bits = 0;
    for (int ox = 0; ox < outW; ox += V) {
      int count = Math.min(V, outW - ox);
      int lane = ox % OUTPUTS_PER_WORD;
      if (lane == 0) {
        bits = record.getAtIndex(I32, rec + ox / OUTPUTS_PER_WORD);
      }
      VectorMask<Float> right = VectorMask.fromLong(SPECIES, (bits & LOW_BITS) >>> lane);
      VectorMask<Float> low = VectorMask.fromLong(SPECIES, (bits >>> BOTTOM_SHIFT) >>> lane);
      FloatVector g = load(dy, out + ox, SPECIES.indexInRange(0, count), count == V);
      // Each window's gradient goes to one of its four positions, zero to the other three
      // (blends, not subtraction, so an infinite or NaN gradient stays where it belongs).
      FloatVector topLeft = zero.blend(g, low.or(right).not());
      FloatVector topRight = zero.blend(g, right.andNot(low));
      FloatVector lowLeft = zero.blend(g, low.andNot(right));
      FloatVector lowRight = zero.blend(g, low.and(right));
      long in = 2L * ox;
      VectorMask<Float> first = SPECIES.indexInRange(0, 2 * count);
      VectorMask<Float> second = SPECIES.indexInRange(V, 2 * count);
      store(ZIP_LOW.selectFrom(topLeft, topRight), dx, row0 + in, first, count == V);
      store(ZIP_HIGH.selectFrom(topLeft, topRight), dx, row0 + in + V, second, count == V);
      store(ZIP_LOW.selectFrom(lowLeft, lowRight), dx, row1 + in, first, count == V);
      store(ZIP_HIGH.selectFrom(lowLeft, lowRight), dx, row1 + in + V, second, count == V);
    }
  }

  /** Stores each gradient of an output row at its window's winner (dx cleared before). */
  private static void backwardRowScatter(MemorySegment dy, long out, MemorySegment dx, long row0, int w,
      MemorySegment record, long rec, int outW) {
    int bits = 0;
    for (int ox = 0; ox < outW; ox++) {
      int lane = ox % OUTPUTS_PER_WORD;
      if (lane == 0) {
        bits = record.getAtIndex(I32, rec + ox / OUTPUTS_PER_WORD);
      }
      int right = bits >>> lane & 1;
      int low = bits >>> (BOTTOM_SHIFT + lane) & 1;
      dx.setAtIndex(F32, row0 + 2L * ox + right + (long) low * w, dy.getAtIndex(F32, out + ox));
    }
  }

  private static void backwardRowScalar(MemorySegment dy, long out, MemorySegment dx, long row0, long row1,
      MemorySegment record, long rec, int outW) {
    int bits = 0;
    for (int ox = 0; ox < outW; ox++) {
      int lane = ox % OUTPUTS_PER_WORD;
      if (lane == 0) {
        bits = record.getAtIndex(I32, rec + ox / OUTPUTS_PER_WORD);
      }
      boolean right = (bits >>> lane & 1) != 0;
      boolean low = (bits >>> (BOTTOM_SHIFT + lane) & 1) != 0;
      float g = dy.getAtIndex(F32, out + ox);
      long in = 2L * ox;
      dx.setAtIndex(F32, row0 + in, !low && !right ? g : 0f);
      dx.setAtIndex(F32, row0 + in + 1, !low && right ? g : 0f);
      dx.setAtIndex(F32, row1 + in, low && !right ? g : 0f);
      dx.setAtIndex(F32, row1 + in + 1, low && right ? g : 0f);
    }
  }

  private static FloatVector load(MemorySegment s, long index, VectorMask<Float> m, boolean full) {
    return full
        ? FloatVector.fromMemorySegment(SPECIES, s, index * Float.BYTES, ORDER)
        : FloatVector.fromMemorySegment(SPECIES, s, index * Float.BYTES, ORDER, m);
  }

  private static void store(FloatVector v, MemorySegment s, long index, VectorMask<Float> m, boolean full) {
    if (full) {
      v.intoMemorySegment(s, index * Float.BYTES, ORDER);
    } else {
      v.intoMemorySegment(s, index * Float.BYTES, ORDER, m);
    }
  }
}
