package io.dlsql.executor.kernel.elementwise;

import static io.dlsql.executor.tensor.Tensor.F32;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Memory-bound loops over flat float ranges, each with a Vector API path (species-wide main loop,
 * masked tail) and a scalar path taken when {@link KernelSwitch#vector()} is off. Offsets and
 * lengths are in floats. Callers split ranges across threads; nothing here allocates. Sums keep
 * one partial per lane and add the lanes in lane order, so results do not depend on JIT state.
 */
public final class ElementwiseKernels {
  private ElementwiseKernels() {}

  static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  static final int V = SPECIES.length();
  static final ByteOrder ORDER = ByteOrder.nativeOrder();

  static FloatVector load(MemorySegment s, long index) {
    return FloatVector.fromMemorySegment(SPECIES, s, index * Float.BYTES, ORDER);
  }

  static FloatVector load(MemorySegment s, long index, VectorMask<Float> m) {
    return FloatVector.fromMemorySegment(SPECIES, s, index * Float.BYTES, ORDER, m);
  }

  /** Mask of the first {@code count} lanes ({@code count < V}). */
  static VectorMask<Float> tail(long count) {
    return SPECIES.indexInRange(0, (int) count);
  }

  // y[i] = max(x[i], 0) for i in [from, to); y may be x.
  public static void relu(MemorySegment x, MemorySegment y, long from, long to) {
    long i = from;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      for (; i + V <= to; i += V) {
        load(x, i).max(zero).intoMemorySegment(y, i * Float.BYTES, ORDER);
      }
      if (i < to) {
        VectorMask<Float> m = tail(to - i);
        load(x, i, m).max(zero).intoMemorySegment(y, i * Float.BYTES, ORDER, m);
        return;
      }
    }
    for (; i < to; i++) {
      float v = x.getAtIndex(F32, i);
      y.setAtIndex(F32, i, v > 0f ? v : 0f);
    }
  }

  // Differentiates relu: dx[i] = s[i] > 0 ? dy[i] : 0, where s is the input or the output of relu.
  public static void reluBackward(MemorySegment s, MemorySegment dy, MemorySegment dx, long from, long to) {
    long i = from;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      for (; i + V <= to; i += V) {
        VectorMask<Float> pos = load(s, i).compare(VectorOperators.GT, 0f);
        zero.blend(load(dy, i), pos).intoMemorySegment(dx, i * Float.BYTES, ORDER);
      }
      if (i < to) {
        VectorMask<Float> m = tail(to - i);
        VectorMask<Float> pos = load(s, i, m).compare(VectorOperators.GT, 0f).and(m);
        zero.blend(load(dy, i, m), pos).intoMemorySegment(dx, i * Float.BYTES, ORDER, m);
        return;
      }
    }
    for (; i < to; i++) {
      dx.setAtIndex(F32, i, s.getAtIndex(F32, i) > 0f ? dy.getAtIndex(F32, i) : 0f);
    }
  }

  /**
   * Every {@code dx[k][i] = relu ? (s[i] > 0 ? dy[i] : 0) : dy[i]} for i in [from, to): one
   * gradient sent to several inputs (a residual add's), reading dy and s once.
   */
  public static void gradientToAll(
      MemorySegment s, MemorySegment dy, MemorySegment[] dx, boolean relu, long from, long to) {
    long i = from;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      for (; i + V <= to; i += V) {
        FloatVector g = load(dy, i);
        if (relu) {
          g = zero.blend(g, load(s, i).compare(VectorOperators.GT, 0f));
        }
        for (MemorySegment d : dx) {
          g.intoMemorySegment(d, i * Float.BYTES, ORDER);
        }
      }
    }
    for (; i < to; i++) {
      float g = relu && !(s.getAtIndex(F32, i) > 0f) ? 0f : dy.getAtIndex(F32, i);
      for (MemorySegment d : dx) {
        d.setAtIndex(F32, i, g);
      }
    }
  }

  // y[i] = x[i] > 0 ? x[i] : slope * x[i]
  public static void leakyRelu(MemorySegment x, MemorySegment y, float slope, long from, long to) {
    long i = from;
    if (KernelSwitch.vector()) {
      for (; i + V <= to; i += V) {
        FloatVector v = load(x, i);
        v.blend(v.mul(slope), v.compare(VectorOperators.LE, 0f)).intoMemorySegment(y, i * Float.BYTES, ORDER);
      }
    }
    for (; i < to; i++) {
      float v = x.getAtIndex(F32, i);
      y.setAtIndex(F32, i, v > 0f ? v : slope * v);
    }
  }

  // Differentiates leaky relu: dx = x > 0 ? dy : slope * dy
  public static void leakyReluBackward(
      MemorySegment x, MemorySegment dy, MemorySegment dx, float slope, long from, long to) {
    long i = from;
    if (KernelSwitch.vector()) {
      for (; i + V <= to; i += V) {
        FloatVector g = load(dy, i);
        g.blend(g.mul(slope), load(x, i).compare(VectorOperators.LE, 0f))
            .intoMemorySegment(dx, i * Float.BYTES, ORDER);
      }
    }
    for (; i < to; i++) {
      float g = dy.getAtIndex(F32, i);
      dx.setAtIndex(F32, i, x.getAtIndex(F32, i) > 0f ? g : slope * g);
    }
  }

  /** y[i] = act(a[i] + b[i]); y may be a or b. */
  public static void add(
      MemorySegment a, MemorySegment b, MemorySegment y, FusedActivation act, long from, long to) {
    long i = from;
    boolean relu = act == FusedActivation.RELU;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      for (; i + V <= to; i += V) {
        FloatVector v = load(a, i).add(load(b, i));
        (relu ? v.max(zero) : v).intoMemorySegment(y, i * Float.BYTES, ORDER);
      }
    }
    for (; i < to; i++) {
      y.setAtIndex(F32, i, act.apply(a.getAtIndex(F32, i) + b.getAtIndex(F32, i)));
    }
  }

  /** y[i] = a[i] * b[i]; y may be a or b. */
  public static void multiply(MemorySegment a, MemorySegment b, MemorySegment y, long from, long to) {
    long i = from;
    if (KernelSwitch.vector()) {
      for (; i + V <= to; i += V) {
        load(a, i).mul(load(b, i)).intoMemorySegment(y, i * Float.BYTES, ORDER);
      }
    }
    for (; i < to; i++) {
      y.setAtIndex(F32, i, a.getAtIndex(F32, i) * b.getAtIndex(F32, i));
    }
  }

  /**
   * y[yOff + i] = act(x[xOff + i] * scale + shift) for i in [0, len): a normalisation's affine
   * step or a convolution's bias epilogue (scale 1), with the activation fused. x and y may be one.
   */
  public static void scaleShift(
      MemorySegment x, long xOff, MemorySegment y, long yOff, int len, float scale, float shift,
      FusedActivation act) {
    int i = 0;
    boolean relu = act == FusedActivation.RELU;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      FloatVector s = FloatVector.broadcast(SPECIES, scale);
      FloatVector t = FloatVector.broadcast(SPECIES, shift);
      for (; i + V <= len; i += V) {
        FloatVector v = load(x, xOff + i).fma(s, t);
        (relu ? v.max(zero) : v).intoMemorySegment(y, (yOff + i) * Float.BYTES, ORDER);
      }
      if (i < len) {
        VectorMask<Float> m = tail(len - i);
        FloatVector v = load(x, xOff + i, m).fma(s, t);
        (relu ? v.max(zero) : v).intoMemorySegment(y, (yOff + i) * Float.BYTES, ORDER, m);
        return;
      }
    }
    for (; i < len; i++) {
      y.setAtIndex(F32, yOff + i, act.apply(Math.fma(x.getAtIndex(F32, xOff + i), scale, shift)));
    }
  }

  /**
   * dst[dstOff + i] = act'(src[srcOff + i]) given the activation output {@code out}: the gradient
   * of a fused activation, {@code dy * [out > 0]} for ReLU, a copy for the identity.
   */
  public static void activationBackward(
      FusedActivation act, MemorySegment out, long outOff, MemorySegment dy, long dyOff,
      MemorySegment dst, long dstOff, int len) {
    if (act == FusedActivation.IDENTITY) {
      MemorySegment.copy(dy, dyOff * Float.BYTES, dst, dstOff * Float.BYTES, (long) len * Float.BYTES);
      return;
    }
    int i = 0;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      for (; i + V <= len; i += V) {
        VectorMask<Float> pos = load(out, outOff + i).compare(VectorOperators.GT, 0f);
        zero.blend(load(dy, dyOff + i), pos).intoMemorySegment(dst, (dstOff + i) * Float.BYTES, ORDER);
      }
    }
    for (; i < len; i++) {
      dst.setAtIndex(F32, dstOff + i, out.getAtIndex(F32, outOff + i) > 0f ? dy.getAtIndex(F32, dyOff + i) : 0f);
    }
  }

  /** y[yOff + i] = act(y[yOff + i] + b[i]) for i in [0, len): a dense layer's bias epilogue. */
  public static void addBias(MemorySegment y, long yOff, MemorySegment b, int len, FusedActivation act) {
    int i = 0;
    boolean relu = act == FusedActivation.RELU;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      for (; i + V <= len; i += V) {
        FloatVector v = load(y, yOff + i).add(load(b, i));
        (relu ? v.max(zero) : v).intoMemorySegment(y, (yOff + i) * Float.BYTES, ORDER);
      }
    }
    for (; i < len; i++) {
      y.setAtIndex(F32, yOff + i, act.apply(y.getAtIndex(F32, yOff + i) + b.getAtIndex(F32, i)));
    }
  }

  /** dst[i] += src[i] for i in [from, to). */
  public static void addInto(MemorySegment dst, MemorySegment src, long from, long to) {
    add(dst, src, dst, FusedActivation.IDENTITY, from, to);
  }

  /** dst[dstOff + i] += src[srcOff + i] for i in [0, len). */
  public static void addInto(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int len) {
    int i = 0;
    if (KernelSwitch.vector()) {
      for (; i + V <= len; i += V) {
        load(dst, dstOff + i).add(load(src, srcOff + i))
            .intoMemorySegment(dst, (dstOff + i) * Float.BYTES, ORDER);
      }
      if (i < len) {
        VectorMask<Float> m = tail(len - i);
        load(dst, dstOff + i, m).add(load(src, srcOff + i, m))
            .intoMemorySegment(dst, (dstOff + i) * Float.BYTES, ORDER, m);
        return;
      }
    }
    for (; i < len; i++) {
      dst.setAtIndex(F32, dstOff + i, dst.getAtIndex(F32, dstOff + i) + src.getAtIndex(F32, srcOff + i));
    }
  }

  /** The sum of x[off .. off + len), one float partial per lane, lanes added in order in double. */
  public static double sum(MemorySegment x, long off, int len) {
    int i = 0;
    double total = 0;
    if (KernelSwitch.vector()) {
      FloatVector acc = FloatVector.zero(SPECIES);
      for (; i + V <= len; i += V) {
        acc = acc.add(load(x, off + i));
      }
      total = lanes(acc);
    }
    for (; i < len; i++) {
      total += x.getAtIndex(F32, off + i);
    }
    return total;
  }

  /** The sum of (x - mean)^2 over x[off .. off + len), like {@link #sum}. */
  public static double sumSquaredDeviation(MemorySegment x, long off, int len, float mean) {
    int i = 0;
    double total = 0;
    if (KernelSwitch.vector()) {
      FloatVector acc = FloatVector.zero(SPECIES);
      for (; i + V <= len; i += V) {
        FloatVector d = load(x, off + i).sub(mean);
        acc = d.fma(d, acc);
      }
      total = lanes(acc);
    }
    for (; i < len; i++) {
      double d = x.getAtIndex(F32, off + i) - mean;
      total += d * d;
    }
    return total;
  }

  /** The sum of dy * (x - mean) over [off, off + len), like {@link #sum}. */
  public static double dotDeviation(MemorySegment dy, MemorySegment x, long off, int len, float mean) {
    int i = 0;
    double total = 0;
    if (KernelSwitch.vector()) {
      FloatVector acc = FloatVector.zero(SPECIES);
      for (; i + V <= len; i += V) {
        acc = load(x, off + i).sub(mean).fma(load(dy, off + i), acc);
      }
      total = lanes(acc);
    }
    for (; i < len; i++) {
      total += (double) dy.getAtIndex(F32, off + i) * (x.getAtIndex(F32, off + i) - mean);
    }
    return total;
  }

  /**
   * dx[i] = a * dy[i] + b * (x[i] - mean) + c over [off, off + len): batchnorm's input gradient
   * with its per-channel constants folded into a, b and c.
   */
  public static void affineOfTwo(
      MemorySegment dy, MemorySegment x, MemorySegment dx, long off, int len, float a, float b,
      float mean, float c) {
    int i = 0;
    if (KernelSwitch.vector()) {
      FloatVector vc = FloatVector.broadcast(SPECIES, c);
      FloatVector va = FloatVector.broadcast(SPECIES, a);
      FloatVector vb = FloatVector.broadcast(SPECIES, b);
      for (; i + V <= len; i += V) {
        FloatVector v = load(x, off + i).sub(mean).fma(vb, vc);
        load(dy, off + i).fma(va, v).intoMemorySegment(dx, (off + i) * Float.BYTES, ORDER);
      }
    }
    for (; i < len; i++) {
      double v = (double) a * dy.getAtIndex(F32, off + i) + (double) b * (x.getAtIndex(F32, off + i) - (double) mean) + c;
      dx.setAtIndex(F32, off + i, (float) v);
    }
  }

  /**
   * Adds {@code sum (x - shift)} to {@code sums[0]} and {@code sum (x - shift)^2} to {@code
   * sums[1]} over x[off .. off + len) in one pass (batchnorm's statistics: with a shift near the
   * mean, {@code var = S2/n - (S1/n)^2} loses almost nothing to cancellation). One float partial
   * per lane, lanes added in lane order in double, like {@link #sum}.
   */
  public static void shiftedSums(MemorySegment x, long off, int len, float shift, double[] sums) {
    int i = 0;
    double s1 = 0;
    double s2 = 0;
    if (KernelSwitch.vector()) {
      FloatVector acc1 = FloatVector.zero(SPECIES);
      FloatVector acc2 = FloatVector.zero(SPECIES);
      for (; i + V <= len; i += V) {
        FloatVector d = load(x, off + i).sub(shift);
        acc1 = acc1.add(d);
        acc2 = d.fma(d, acc2);
      }
      s1 = lanes(acc1);
      s2 = lanes(acc2);
    }
    for (; i < len; i++) {
      double d = x.getAtIndex(F32, off + i) - shift;
      s1 += d;
      s2 += d * d;
    }
    sums[0] += s1;
    sums[1] += s2;
  }

  /**
   * Sums for batchnorm's backward over [off, off + len) in one pass: adds {@code sum dz} to
   * {@code sums[0]} and {@code sum dz * (x - mean)} to {@code sums[1]}, where {@code dz = dy}, or
   * {@code dy * [y > 0]} with {@code relu} (the gradient through a fused ReLU whose output is y).
   * One float partial per lane, lanes added in lane order in double, like {@link #sum}.
   */
  public static void batchNormGradientSums(
      MemorySegment y, MemorySegment dy, MemorySegment x, long off, int len, float mean, boolean relu,
      double[] sums) {
    int i = 0;
    double sumDz = 0;
    double sumDzXmu = 0;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      FloatVector accDz = zero;
      FloatVector accDot = zero;
      for (; i + V <= len; i += V) {
        FloatVector dz = load(dy, off + i);
        if (relu) {
          dz = zero.blend(dz, load(y, off + i).compare(VectorOperators.GT, 0f));
        }
        accDz = accDz.add(dz);
        accDot = load(x, off + i).sub(mean).fma(dz, accDot);
      }
      sumDz = lanes(accDz);
      sumDzXmu = lanes(accDot);
    }
    for (; i < len; i++) {
      float dz = dy.getAtIndex(F32, off + i);
      if (relu && !(y.getAtIndex(F32, off + i) > 0f)) {
        dz = 0f;
      }
      sumDz += dz;
      sumDzXmu += (double) dz * (x.getAtIndex(F32, off + i) - mean);
    }
    sums[0] += sumDz;
    sums[1] += sumDzXmu;
  }

  /** Double lanes of the vector width: a float vector's lanes convert into two of these (parts 0 and 1). */
  static final VectorSpecies<Double> DOUBLES =
      VectorSpecies.of(double.class, VectorShape.forBitSize(SPECIES.vectorBitSize()));

  /**
   * {@link #shiftedSums} over one channel of an NCHW batch, the runs {@code x[base + s * stride ..
   * + len)} for s in [0, n): each run is summed in float lanes as there, and the lane partials
   * are carried across runs in double lanes and added across lanes once, in lane order, at the
   * end. Adding the lanes once per run cost as much as the run itself for 7x7 and 14x14 maps.
   */
  public static void channelShiftedSums(
      MemorySegment x, long base, long stride, int n, int len, float shift, double[] sums) {
    if (!KernelSwitch.vector() || DOUBLES.length() * 2 != V) {
      for (int s = 0; s < n; s++) {
        shiftedSums(x, base + s * stride, len, shift, sums);
      }
      return;
    }
    DoubleVector s1a = DoubleVector.zero(DOUBLES);
    DoubleVector s1b = s1a;
    DoubleVector s2a = s1a;
    DoubleVector s2b = s1a;
    double t1 = 0;
    double t2 = 0;
    for (int s = 0; s < n; s++) {
      long off = base + s * stride;
      FloatVector acc1 = FloatVector.zero(SPECIES);
      FloatVector acc2 = acc1;
      int i = 0;
      for (; i + V <= len; i += V) {
        FloatVector d = load(x, off + i).sub(shift);
        acc1 = acc1.add(d);
        acc2 = d.fma(d, acc2);
      }
      s1a = s1a.add(acc1.convertShape(VectorOperators.F2D, DOUBLES, 0));
      s1b = s1b.add(acc1.convertShape(VectorOperators.F2D, DOUBLES, 1));
      s2a = s2a.add(acc2.convertShape(VectorOperators.F2D, DOUBLES, 0));
      s2b = s2b.add(acc2.convertShape(VectorOperators.F2D, DOUBLES, 1));
      for (; i < len; i++) {
        double d = x.getAtIndex(F32, off + i) - shift;
        t1 += d;
        t2 += d * d;
      }
    }
    sums[0] += lanes(s1a, s1b) + t1;
    sums[1] += lanes(s2a, s2b) + t2;
  }

  /**
   * {@link #batchNormGradientSums} over one channel of an NCHW batch (runs as in {@link
   * #channelShiftedSums}, lane partials carried in double lanes across runs).
   */
  public static void channelGradientSums(
      MemorySegment y, MemorySegment dy, MemorySegment x, long base, long stride, int n, int len, float mean,
      boolean relu, double[] sums) {
    if (!KernelSwitch.vector() || DOUBLES.length() * 2 != V) {
      for (int s = 0; s < n; s++) {
        batchNormGradientSums(y, dy, x, base + s * stride, len, mean, relu, sums);
      }
      return;
    }
    FloatVector zero = FloatVector.zero(SPECIES);
    DoubleVector s1a = DoubleVector.zero(DOUBLES);
    DoubleVector s1b = s1a;
    DoubleVector s2a = s1a;
    DoubleVector s2b = s1a;
    double t1 = 0;
    double t2 = 0;
    for (int s = 0; s < n; s++) {
      long off = base + s * stride;
      FloatVector accDz = zero;
      FloatVector accDot = zero;
      int i = 0;
      for (; i + V <= len; i += V) {
        FloatVector dz = load(dy, off + i);
        if (relu) {
          dz = zero.blend(dz, load(y, off + i).compare(VectorOperators.GT, 0f));
        }
        accDz = accDz.add(dz);
        accDot = load(x, off + i).sub(mean).fma(dz, accDot);
      }
      s1a = s1a.add(accDz.convertShape(VectorOperators.F2D, DOUBLES, 0));
      s1b = s1b.add(accDz.convertShape(VectorOperators.F2D, DOUBLES, 1));
      s2a = s2a.add(accDot.convertShape(VectorOperators.F2D, DOUBLES, 0));
      s2b = s2b.add(accDot.convertShape(VectorOperators.F2D, DOUBLES, 1));
      for (; i < len; i++) {
        float dz = dy.getAtIndex(F32, off + i);
        if (relu && !(y.getAtIndex(F32, off + i) > 0f)) {
          dz = 0f;
        }
        t1 += dz;
        t2 += (double) dz * (x.getAtIndex(F32, off + i) - mean);
      }
    }
    sums[0] += lanes(s1a, s1b) + t1;
    sums[1] += lanes(s2a, s2b) + t2;
  }

  /** The lanes of low (float lanes 0 .. V/2 - 1) then high, added in lane order. */
  private static double lanes(DoubleVector low, DoubleVector high) {
    double s = 0;
    for (int l = 0; l < low.length(); l++) {
      s += low.lane(l);
    }
    for (int l = 0; l < high.length(); l++) {
      s += high.lane(l);
    }
    return s;
  }

  /**
   * dx[i] = a * dz[i] + b * (x[i] - mean) + c over [off, off + len), dz as in {@link
   * #batchNormGradientSums}: batchnorm's input gradient with the fused ReLU's mask applied on the
   * way. dx may be dy.
   */
  public static void batchNormInputGradient(
      MemorySegment y, MemorySegment dy, MemorySegment x, MemorySegment dx, long off, int len,
      float a, float b, float mean, float c, boolean relu) {
    int i = 0;
    if (KernelSwitch.vector()) {
      FloatVector zero = FloatVector.zero(SPECIES);
      FloatVector vc = FloatVector.broadcast(SPECIES, c);
      FloatVector va = FloatVector.broadcast(SPECIES, a);
      FloatVector vb = FloatVector.broadcast(SPECIES, b);
      for (; i + V <= len; i += V) {
        FloatVector dz = load(dy, off + i);
        if (relu) {
          dz = zero.blend(dz, load(y, off + i).compare(VectorOperators.GT, 0f));
        }
        FloatVector v = load(x, off + i).sub(mean).fma(vb, vc);
        dz.fma(va, v).intoMemorySegment(dx, (off + i) * Float.BYTES, ORDER);
      }
      if (i < len) {
        // A masked tail: batchnorm calls this once per image and channel, on maps of 49 or 196.
        VectorMask<Float> m = tail(len - i);
        FloatVector dz = load(dy, off + i, m);
        if (relu) {
          dz = zero.blend(dz, load(y, off + i, m).compare(VectorOperators.GT, 0f));
        }
        FloatVector v = load(x, off + i, m).sub(mean).fma(vb, vc);
        dz.fma(va, v).intoMemorySegment(dx, (off + i) * Float.BYTES, ORDER, m);
        return;
      }
    }
    for (; i < len; i++) {
      float dz = dy.getAtIndex(F32, off + i);
      if (relu && !(y.getAtIndex(F32, off + i) > 0f)) {
        dz = 0f;
      }
      double v = (double) a * dz + (double) b * (x.getAtIndex(F32, off + i) - (double) mean) + c;
      dx.setAtIndex(F32, off + i, (float) v);
    }
  }

  /**
   * One SGD update of w[from, to) (PyTorch's rule, dampening 0): {@code d = g + wd * w}; with a
   * momentum buffer {@code buf = first ? d : mu * buf + d} and {@code d = nesterov ? d + mu * buf :
   * buf}; then {@code w -= rate * d}. buf may be null (no momentum). Separate multiplies and adds,
   * no fused multiply-add, so the vector and scalar paths round identically.
   */
  public static void sgdUpdate(
      MemorySegment w, MemorySegment g, MemorySegment buf, long from, long to, float wd, float mu,
      float rate, boolean first, boolean nesterov) {
    long i = from;
    if (KernelSwitch.vector()) {
      for (; i + V <= to; i += V) {
        long at = i * Float.BYTES;
        FloatVector wi = load(w, i);
        FloatVector d = load(g, i).add(wi.mul(wd));
        if (buf != null) {
          FloatVector b = first ? d : load(buf, i).mul(mu).add(d);
          b.intoMemorySegment(buf, at, ORDER);
          d = nesterov ? d.add(b.mul(mu)) : b;
        }
        wi.sub(d.mul(rate)).intoMemorySegment(w, at, ORDER);
      }
    }
    for (; i < to; i++) {
      float wi = w.getAtIndex(F32, i);
      float d = g.getAtIndex(F32, i) + wd * wi;
      if (buf != null) {
        float b = first ? d : mu * buf.getAtIndex(F32, i) + d;
        buf.setAtIndex(F32, i, b);
        d = nesterov ? d + mu * b : b;
      }
      w.setAtIndex(F32, i, wi - rate * d);
    }
  }

  /** Adds the lanes of {@code v} in lane order, in double. */
  static double lanes(FloatVector v) {
    double s = 0;
    for (int l = 0; l < V; l++) {
      s += v.lane(l);
    }
    return s;
  }
}
