package io.dlsql.executor.kernel.blocked;

import static io.dlsql.executor.kernel.blocked.ChannelTiling.LANES;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.SPECIES;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.get;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.load;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.mask;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.set;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.store;
import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Depthwise convolution (one output channel per input channel, groups == C) over NHWC and NCHWc,
 * one image per call: each channel's filter touches only its own channel, so sixteen channels of a
 * pixel are one vector and every tap is a vector FMA with no broadcast. Weights are packed {@code
 * (ceil(C/16), KH, KW, 16)}; the weight gradient accumulates into a packed partial the caller
 * keeps per thread.
 */
public final class BlockedDepthwiseConv2d {
  private BlockedDepthwiseConv2d() {}

  /** Whether this kernel computes {@code g}: depthwise with one output channel per input channel. */
  public static boolean supports(ConvGeometry g) {
    return g.groups() == g.inChannels() && g.groups() > 1 && g.outChannels() == g.inChannels();
  }

  /** Floats of the packed weights. */
  public static int packedWeightsSize(ConvGeometry g) {
    return io.dlsql.executor.tensor.Layout.blocks(g.outChannels()) * LANES * g.kernelH() * g.kernelW();
  }

  /** Packs w (C, 1, KH, KW) into {@code wp} (ceil(C/16), KH, KW, 16). */
  public static void packWeights(ConvGeometry g, MemorySegment w, float[] wp) {
    int kk = g.kernelH() * g.kernelW();
    java.util.Arrays.fill(wp, 0f);
    for (int c = 0; c < g.outChannels(); c++) {
      for (int k = 0; k < kk; k++) {
        wp[((c / LANES) * kk + k) * LANES + c % LANES] = w.getAtIndex(F32, (long) c * kk + k);
      }
    }
  }

  /** Adds the packed gradient {@code dwp} into dw (C, 1, KH, KW), or writes it. */
  public static void unpackWeights(ConvGeometry g, float[] dwp, MemorySegment dw, boolean accumulate) {
    int kk = g.kernelH() * g.kernelW();
    for (int c = 0; c < g.outChannels(); c++) {
      for (int k = 0; k < kk; k++) {
        long at = (long) c * kk + k;
        float v = dwp[((c / LANES) * kk + k) * LANES + c % LANES];
        dw.setAtIndex(F32, at, accumulate ? dw.getAtIndex(F32, at) + v : v);
      }
    }
  }

  // y[n][c][oy][ox] = act(b[c] + sum over kh, kw of w[c][kh][kw] * x[n][c][iy][ix]) for image n
  public static void forwardImage(ConvGeometry g, ChannelTiling tx, MemorySegment x, ChannelTiling ty,
      MemorySegment y, int n, float[] wp, float[] bias, FusedActivation act) {
    int kw = g.kernelW();
    float[] acc = new float[LANES];
    for (int gi = 0; gi < tx.groups(); gi++) {
      int lanes = tx.lanes(gi);
      VectorMask<Float> m = mask(lanes);
      int wBase = gi * g.kernelH() * kw * LANES;
      for (int oy = 0; oy < g.outHeight(); oy++) {
        for (int ox = 0; ox < g.outWidth(); ox++) {
          long o = ty.at(n, gi, oy, ox);
          if (KernelSwitch.vector()) {
            FloatVector a = FloatVector.fromArray(SPECIES, bias, gi * LANES);
            for (int i = 0; i < g.kernelH(); i++) {
              int iy = oy * g.strideH() - g.padTop() + i * g.dilationH();
              if (iy < 0 || iy >= g.inHeight()) {
                continue;
              }
              for (int j = 0; j < kw; j++) {
                int ix = ox * g.strideW() - g.padLeft() + j * g.dilationW();
                if (ix >= 0 && ix < g.inWidth()) {
                  a = load(x, tx.at(n, gi, iy, ix), m)
                      .fma(FloatVector.fromArray(SPECIES, wp, wBase + (i * kw + j) * LANES), a);
                }
              }
            }
            // Parked and reloaded, so the loop accumulator never reaches a call: a vector passed to a
            // call C2 does not inline is boxed, and a boxed accumulator at every FMA of its loop.
            (act == FusedActivation.RELU ? a.max(0f) : a).intoArray(acc, 0);
            store(FloatVector.fromArray(SPECIES, acc, 0), y, o, m);
            continue;
          }
          System.arraycopy(bias, gi * LANES, acc, 0, LANES);
          for (int i = 0; i < g.kernelH(); i++) {
            int iy = oy * g.strideH() - g.padTop() + i * g.dilationH();
            for (int j = 0; j < kw; j++) {
              int ix = ox * g.strideW() - g.padLeft() + j * g.dilationW();
              if (iy < 0 || iy >= g.inHeight() || ix < 0 || ix >= g.inWidth()) {
                continue;
              }
              long at = tx.at(n, gi, iy, ix);
              for (int l = 0; l < lanes; l++) {
                acc[l] = Math.fma(get(x, at + l), wp[wBase + (i * kw + j) * LANES + l], acc[l]);
              }
            }
          }
          for (int l = 0; l < lanes; l++) {
            set(y, o + l, act.apply(acc[l]));
          }
        }
      }
    }
  }

  /**
   * Differentiates {@link #forwardImage} for image n: dwp += sum of x * dz over the taps, db (if
   * not null) += sum of dz, and when dx is not null dx_n = sum of w * dz over the outputs each
   * input feeds (overwritten). dz is the output gradient with the activation already applied.
   */
  public static void backwardImage(ConvGeometry g, ChannelTiling tx, MemorySegment x, ChannelTiling ty,
      MemorySegment dz, int n, float[] wp, float[] dwp, float[] db, MemorySegment dx) {
    int kw = g.kernelW();
    if (dx != null) {
      dx.asSlice(n * tx.imageStride() * Float.BYTES, tx.imageStride() * Float.BYTES).fill((byte) 0);
    }
    for (int gi = 0; gi < tx.groups(); gi++) {
      int lanes = tx.lanes(gi);
      VectorMask<Float> m = mask(lanes);
      int wBase = gi * g.kernelH() * kw * LANES;
      for (int oy = 0; oy < g.outHeight(); oy++) {
        for (int ox = 0; ox < g.outWidth(); ox++) {
          long o = ty.at(n, gi, oy, ox);
          if (KernelSwitch.vector()) {
            FloatVector d = load(dz, o, m);
            if (db != null) {
              FloatVector.fromArray(SPECIES, db, gi * LANES).add(d).intoArray(db, gi * LANES);
            }
            for (int i = 0; i < g.kernelH(); i++) {
              int iy = oy * g.strideH() - g.padTop() + i * g.dilationH();
              if (iy < 0 || iy >= g.inHeight()) {
                continue;
              }
              for (int j = 0; j < kw; j++) {
                int ix = ox * g.strideW() - g.padLeft() + j * g.dilationW();
                if (ix < 0 || ix >= g.inWidth()) {
                  continue;
                }
                long at = tx.at(n, gi, iy, ix);
                int wAt = wBase + (i * kw + j) * LANES;
                FloatVector.fromArray(SPECIES, dwp, wAt).add(load(x, at, m).mul(d)).intoArray(dwp, wAt);
                if (dx != null) {
                  store(FloatVector.fromArray(SPECIES, wp, wAt).fma(d, load(dx, at, m)), dx, at, m);
                }
              }
            }
            continue;
          }
          for (int l = 0; l < lanes; l++) {
            float d = get(dz, o + l);
            if (db != null) {
              db[gi * LANES + l] += d;
            }
            for (int i = 0; i < g.kernelH(); i++) {
              int iy = oy * g.strideH() - g.padTop() + i * g.dilationH();
              for (int j = 0; j < kw; j++) {
                int ix = ox * g.strideW() - g.padLeft() + j * g.dilationW();
                if (iy < 0 || iy >= g.inHeight() || ix < 0 || ix >= g.inWidth()) {
                  continue;
                }
                long at = tx.at(n, gi, iy, ix) + l;
                int wAt = wBase + (i * kw + j) * LANES + l;
                dwp[wAt] += get(x, at) * d;
                if (dx != null) {
                  set(dx, at, Math.fma(wp[wAt], d, get(dx, at)));
                }
              }
            }
          }
        }
      }
    }
  }
}
