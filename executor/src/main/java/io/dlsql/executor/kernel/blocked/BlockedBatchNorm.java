package io.dlsql.executor.kernel.blocked;

import static io.dlsql.executor.kernel.blocked.ChannelTiling.LANES;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.SPECIES;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.get;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.load;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.mask;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.set;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.store;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Batch normalisation over NHWC and NCHWc batches, the same statistics and semantics as the NCHW
 * layer (batch mean and biased variance in training, running statistics updated with the unbiased
 * variance; running statistics in evaluation). Channel groups are split across threads; within a
 * group the 16 channels are one vector, summed per image in float lanes and across images in
 * double, always in the same order. The layer owns the parameters and passes them in.
 */
public final class BlockedBatchNorm {
  private BlockedBatchNorm() {}

  private static final int MIN_GROUPS_PER_CHUNK = 1;

  /** The layer's parameters and the per-channel mean and 1/std its latest forward used. */
  public record State(
      Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, double eps, double momentum,
      double[] usedMean, double[] usedInvStd) {}

  // x: (N, C, H, W) -> y = act(gamma * (x - mean_c) / sqrt(var_c + eps) + beta)
  public static void forward(ChannelTiling t, MemorySegment x, MemorySegment y, boolean training,
      State s, FusedActivation act) {
    Parallel.get().forRange(t.groups(), MIN_GROUPS_PER_CHUNK, (chunk, from, to) -> {
      double[] sum = new double[LANES];
      double[] sq = new double[LANES];
      float[] scale = new float[LANES];
      float[] shift = new float[LANES];
      for (int g = from; g < to; g++) {
        int lanes = t.lanes(g);
        long count = (long) t.images() * t.pixels();
        if (training) {
          channelSums(t, x, g, null, sum);
          float[] mean = new float[LANES];
          for (int l = 0; l < lanes; l++) {
            mean[l] = (float) (sum[l] / count);
          }
          channelSums(t, x, g, mean, sq);
          for (int l = 0; l < lanes; l++) {
            int c = g * LANES + l;
            double m = sum[l] / count;
            double var = sq[l] / count;
            double unbiased = count > 1 ? sq[l] / (count - 1) : var;
            s.usedMean[c] = m;
            s.usedInvStd[c] = 1.0 / Math.sqrt(var + s.eps);
            s.runningMean.setFlat(c, (float) ((1 - s.momentum) * s.runningMean.getFlat(c) + s.momentum * m));
            s.runningVar.setFlat(c, (float) ((1 - s.momentum) * s.runningVar.getFlat(c) + s.momentum * unbiased));
          }
        } else {
          for (int l = 0; l < lanes; l++) {
            int c = g * LANES + l;
            s.usedMean[c] = s.runningMean.getFlat(c);
            s.usedInvStd[c] = 1.0 / Math.sqrt(s.runningVar.getFlat(c) + s.eps);
          }
        }
        for (int l = 0; l < lanes; l++) {
          int c = g * LANES + l;
          double gm = s.gamma.getFlat(c);
          scale[l] = (float) (gm * s.usedInvStd[c]);
          shift[l] = (float) (s.beta.getFlat(c) - s.usedMean[c] * gm * s.usedInvStd[c]);
        }
        apply(t, x, y, g, scale, shift, act);
      }
    });
  }

  /**
   * Per lane of group {@code g}: the sum of x over every image and pixel, or with {@code mean}
   * given, the sum of (x - mean)^2. Float lanes per image, double across images.
   */
  private static void channelSums(ChannelTiling t, MemorySegment x, int g, float[] mean, double[] out) {
    int lanes = t.lanes(g);
    java.util.Arrays.fill(out, 0);
    if (KernelSwitch.vector()) {
      VectorMask<Float> m = mask(lanes);
      FloatVector mv = mean == null ? FloatVector.zero(SPECIES) : FloatVector.fromArray(SPECIES, mean, 0);
      float[] partial = new float[LANES];
      for (int n = 0; n < t.images(); n++) {
        FloatVector acc = FloatVector.zero(SPECIES);
        long base = t.at(n, g, 0);
        for (int p = 0; p < t.pixels(); p++) {
          FloatVector v = load(x, base + (long) p * t.pixelStride(), m);
          acc = mean == null ? acc.add(v) : v.sub(mv).fma(v.sub(mv), acc);
        }
        acc.intoArray(partial, 0);
        for (int l = 0; l < lanes; l++) {
          out[l] += partial[l];
        }
      }
      return;
    }
    for (int n = 0; n < t.images(); n++) {
      float[] partial = new float[LANES];
      long base = t.at(n, g, 0);
      for (int p = 0; p < t.pixels(); p++) {
        long at = base + (long) p * t.pixelStride();
        for (int l = 0; l < lanes; l++) {
          float v = get(x, at + l);
          if (mean == null) {
            partial[l] += v;
          } else {
            float d = v - mean[l];
            partial[l] += d * d;
          }
        }
      }
      for (int l = 0; l < lanes; l++) {
        out[l] += partial[l];
      }
    }
  }

  /** y = act(x * scale + shift) over group {@code g} of every image, per-lane scale and shift. */
  private static void apply(ChannelTiling t, MemorySegment x, MemorySegment y, int g, float[] scale,
      float[] shift, FusedActivation act) {
    int lanes = t.lanes(g);
    boolean relu = act == FusedActivation.RELU;
    if (KernelSwitch.vector()) {
      VectorMask<Float> m = mask(lanes);
      FloatVector sv = FloatVector.fromArray(SPECIES, scale, 0);
      FloatVector hv = FloatVector.fromArray(SPECIES, shift, 0);
      FloatVector zero = FloatVector.zero(SPECIES);
      for (int n = 0; n < t.images(); n++) {
        long base = t.at(n, g, 0);
        for (int p = 0; p < t.pixels(); p++) {
          long at = base + (long) p * t.pixelStride();
          FloatVector v = load(x, at, m).fma(sv, hv);
          store(relu ? v.max(zero) : v, y, at, m);
        }
      }
      return;
    }
    for (int n = 0; n < t.images(); n++) {
      long base = t.at(n, g, 0);
      for (int p = 0; p < t.pixels(); p++) {
        long at = base + (long) p * t.pixelStride();
        for (int l = 0; l < lanes; l++) {
          set(y, at + l, act.apply(Math.fma(get(x, at + l), scale[l], shift[l])));
        }
      }
    }
  }

  // With xhat = (x - mean) * invStd and M = N*H*W: dbeta = sum dy, dgamma = sum dy * xhat,
  // training: dx = gamma * invStd / M * (M * dy - dbeta - xhat * dgamma); eval: dx = gamma * invStd * dy.
  // dy is already masked by a fused activation; dx may be null.
  public static void backward(ChannelTiling t, MemorySegment x, MemorySegment dy, MemorySegment dx,
      boolean training, State s, Tensor gammaGrad, Tensor betaGrad) {
    Parallel.get().forRange(t.groups(), MIN_GROUPS_PER_CHUNK, (chunk, from, to) -> {
      double[] sumDy = new double[LANES];
      double[] sumDyXmu = new double[LANES];
      float[] mean = new float[LANES];
      float[] a = new float[LANES];
      float[] b = new float[LANES];
      float[] c0 = new float[LANES];
      long count = (long) t.images() * t.pixels();
      for (int g = from; g < to; g++) {
        int lanes = t.lanes(g);
        for (int l = 0; l < lanes; l++) {
          mean[l] = (float) s.usedMean[g * LANES + l];
        }
        gradientSums(t, x, dy, g, mean, sumDy, sumDyXmu);
        for (int l = 0; l < lanes; l++) {
          int c = g * LANES + l;
          double invStd = s.usedInvStd[c];
          double sumDyXhat = sumDyXmu[l] * invStd;
          betaGrad.setFlat(c, (float) sumDy[l]);
          gammaGrad.setFlat(c, (float) sumDyXhat);
          double gm = s.gamma.getFlat(c);
          a[l] = (float) (gm * invStd);
          b[l] = training ? (float) (-gm * invStd * invStd * sumDyXhat / count) : 0f;
          c0[l] = training ? (float) (-gm * invStd * sumDy[l] / count) : 0f;
        }
        if (dx != null) {
          inputGradient(t, x, dy, dx, g, a, b, mean, c0);
        }
      }
    });
  }

  private static void gradientSums(ChannelTiling t, MemorySegment x, MemorySegment dy, int g,
      float[] mean, double[] sumDy, double[] sumDyXmu) {
    int lanes = t.lanes(g);
    java.util.Arrays.fill(sumDy, 0);
    java.util.Arrays.fill(sumDyXmu, 0);
    float[] p1 = new float[LANES];
    float[] p2 = new float[LANES];
    for (int n = 0; n < t.images(); n++) {
      long base = t.at(n, g, 0);
      if (KernelSwitch.vector()) {
        VectorMask<Float> m = mask(lanes);
        FloatVector mv = FloatVector.fromArray(SPECIES, mean, 0);
        FloatVector s1 = FloatVector.zero(SPECIES);
        FloatVector s2 = FloatVector.zero(SPECIES);
        for (int p = 0; p < t.pixels(); p++) {
          long at = base + (long) p * t.pixelStride();
          FloatVector d = load(dy, at, m);
          s1 = s1.add(d);
          s2 = d.fma(load(x, at, m).sub(mv), s2);
        }
        s1.intoArray(p1, 0);
        s2.intoArray(p2, 0);
      } else {
        java.util.Arrays.fill(p1, 0f);
        java.util.Arrays.fill(p2, 0f);
        for (int p = 0; p < t.pixels(); p++) {
          long at = base + (long) p * t.pixelStride();
          for (int l = 0; l < lanes; l++) {
            float d = get(dy, at + l);
            p1[l] += d;
            p2[l] = Math.fma(d, get(x, at + l) - mean[l], p2[l]);
          }
        }
      }
      for (int l = 0; l < lanes; l++) {
        sumDy[l] += p1[l];
        sumDyXmu[l] += p2[l];
      }
    }
  }

  /** dx = a * dy + b * (x - mean) + c0, per lane. */
  private static void inputGradient(ChannelTiling t, MemorySegment x, MemorySegment dy, MemorySegment dx,
      int g, float[] a, float[] b, float[] mean, float[] c0) {
    int lanes = t.lanes(g);
    if (KernelSwitch.vector()) {
      VectorMask<Float> m = mask(lanes);
      FloatVector av = FloatVector.fromArray(SPECIES, a, 0);
      FloatVector bv = FloatVector.fromArray(SPECIES, b, 0);
      FloatVector mv = FloatVector.fromArray(SPECIES, mean, 0);
      FloatVector cv = FloatVector.fromArray(SPECIES, c0, 0);
      for (int n = 0; n < t.images(); n++) {
        long base = t.at(n, g, 0);
        for (int p = 0; p < t.pixels(); p++) {
          long at = base + (long) p * t.pixelStride();
          FloatVector v = load(x, at, m).sub(mv).fma(bv, load(dy, at, m).fma(av, cv));
          store(v, dx, at, m);
        }
      }
      return;
    }
    for (int n = 0; n < t.images(); n++) {
      long base = t.at(n, g, 0);
      for (int p = 0; p < t.pixels(); p++) {
        long at = base + (long) p * t.pixelStride();
        for (int l = 0; l < lanes; l++) {
          float v = Math.fma(get(x, at + l) - mean[l], b[l], Math.fma(get(dy, at + l), a[l], c0[l]));
          set(dx, at + l, v);
        }
      }
    }
  }
}
