package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import io.dlsql.executor.tensor.Layout;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Spatial pack convolution on NCHWc (groups 1): a register-blocked direct convolution. An output
 * channel block of 16 is one vector; a tile of {@link #TILE} output pixels of one row lives in
 * eight accumulators; each step loads one packed weight vector (16 output channels of one input
 * channel and tap) and multiplies it into the tile with eight broadcast input values, so there
 * is no im2col copy and no horizontal reduction. Weights are packed as {@code (ceil(OC/16), C,
 * KH, KW, 16)} (padding lanes zero). Each image is first copied into a zero-bordered heap buffer
 * {@code (ceil(C/16), HP, WP, 16)}, so the hot loops have no bounds tests. The input gradient
 * scatters the same tiles through weights packed {@code (ceil(C/16), KH, KW, OC, 16)}; the weight
 * gradient keeps 16 input-channel accumulators of one tap and reads each output-gradient vector
 * once per pixel. Rows narrower than the tile take one-pixel steps; a row's last partial tile is
 * recomputed overlapping the previous one. A scalar twin runs when {@link KernelSwitch#vector()}
 * is off. Shapes: x (N, ceil(C/16), H, W, 16), y (N, ceil(OC/16), OH, OW, 16).
 */
public final class SpatialPackConv2d {
  private SpatialPackConv2d() {}

  /** Output pixels per register tile: eight accumulators plus a weight and broadcasts fit 32 registers. */
  public static final int TILE = 8;
  private static final int B = Layout.CHANNEL_BLOCK;
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** Whether this kernel computes {@code g}: ungrouped convolutions. */
  public static boolean supports(ConvGeometry g) {
    return g.groups() == 1;
  }

  static int inBlocks(ConvGeometry g) {
    return Layout.blocks(g.inChannels());
  }

  static int outBlocks(ConvGeometry g) {
    return Layout.blocks(g.outChannels());
  }

  /** Height of the zero-bordered input image: every row some output reads. */
  public static int paddedHeight(ConvGeometry g) {
    return (g.outHeight() - 1) * g.strideH() + (g.kernelH() - 1) * g.dilationH() + 1;
  }

  /** Width of the zero-bordered input image. */
  public static int paddedWidth(ConvGeometry g) {
    return (g.outWidth() - 1) * g.strideW() + (g.kernelW() - 1) * g.dilationW() + 1;
  }

  /** Floats of one padded image (input or input gradient). */
  public static int paddedImageSize(ConvGeometry g) {
    return Math.toIntExact((long) inBlocks(g) * paddedHeight(g) * paddedWidth(g) * B);
  }

  /** Floats of one NCHWc output image. */
  public static int outputImageSize(ConvGeometry g) {
    return Math.toIntExact((long) outBlocks(g) * g.outPixels() * B);
  }

  /** Floats of the packed weights {@code (ceil(OC/16), C, KH, KW, 16)}. */
  public static int packedWeightsSize(ConvGeometry g) {
    return Math.toIntExact((long) outBlocks(g) * g.inChannels() * g.kernelH() * g.kernelW() * B);
  }

  /** Floats of the input-gradient weights {@code (ceil(C/16), KH, KW, OC, 16)}. */
  public static int transposedWeightsSize(ConvGeometry g) {
    return Math.toIntExact((long) inBlocks(g) * g.kernelH() * g.kernelW() * g.outChannels() * B);
  }

  /** Packs w (OC, C, KH, KW) into {@code wp} (ceil(OC/16), C, KH, KW, 16), padding lanes zero. */
  public static void packWeights(ConvGeometry g, MemorySegment w, float[] wp) {
    int kk = g.kernelH() * g.kernelW();
    java.util.Arrays.fill(wp, 0f);
    for (int oc = 0; oc < g.outChannels(); oc++) {
      for (int ic = 0; ic < g.inChannels(); ic++) {
        for (int k = 0; k < kk; k++) {
          wp[(((oc / B) * g.inChannels() + ic) * kk + k) * B + oc % B] =
              w.getAtIndex(F32, ((long) oc * g.inChannels() + ic) * kk + k);
        }
      }
    }
  }

  /** Packs w (OC, C, KH, KW) into {@code wt} (ceil(C/16), KH, KW, OC, 16), lane = input channel. */
  public static void packTransposedWeights(ConvGeometry g, MemorySegment w, float[] wt) {
    int kk = g.kernelH() * g.kernelW();
    java.util.Arrays.fill(wt, 0f);
    for (int oc = 0; oc < g.outChannels(); oc++) {
      for (int ic = 0; ic < g.inChannels(); ic++) {
        for (int k = 0; k < kk; k++) {
          wt[(((ic / B) * kk + k) * g.outChannels() + oc) * B + ic % B] =
              w.getAtIndex(F32, ((long) oc * g.inChannels() + ic) * kk + k);
        }
      }
    }
  }

  /** Adds the packed gradient {@code dwp} (ceil(OC/16), C, KH, KW, 16) into dw (OC, C, KH, KW), or writes it. */
  public static void unpackWeights(ConvGeometry g, float[] dwp, MemorySegment dw, boolean accumulate) {
    int kk = g.kernelH() * g.kernelW();
    for (int oc = 0; oc < g.outChannels(); oc++) {
      for (int ic = 0; ic < g.inChannels(); ic++) {
        for (int k = 0; k < kk; k++) {
          long at = ((long) oc * g.inChannels() + ic) * kk + k;
          float v = dwp[(((oc / B) * g.inChannels() + ic) * kk + k) * B + oc % B];
          dw.setAtIndex(F32, at, accumulate ? dw.getAtIndex(F32, at) + v : v);
        }
      }
    }
  }

  /** Copies one NCHWc image at {@code xOff} into the zero-bordered buffer {@code xp}. */
  public static void padImage(ConvGeometry g, MemorySegment x, long xOff, float[] xp) {
    int hp = paddedHeight(g);
    int wp = paddedWidth(g);
    java.util.Arrays.fill(xp, 0, paddedImageSize(g), 0f);
    int h = g.inHeight();
    int w = g.inWidth();
    int x0 = Math.max(0, -g.padLeft());
    int x1 = Math.min(w, wp - g.padLeft());
    if (x1 <= x0) {
      return;
    }
    for (int ib = 0; ib < inBlocks(g); ib++) {
      for (int iy = Math.max(0, -g.padTop()); iy < Math.min(h, hp - g.padTop()); iy++) {
        long src = xOff + (((long) ib * h + iy) * w + x0) * B;
        int dst = ((ib * hp + iy + g.padTop()) * wp + x0 + g.padLeft()) * B;
        MemorySegment.copy(x, F32, src * Float.BYTES, xp, dst, (x1 - x0) * B);
      }
    }
  }

  /** Writes the interior of the padded input gradient {@code dxp} into the NCHWc image of dx at {@code dxOff}. */
  public static void unpadImage(ConvGeometry g, float[] dxp, MemorySegment dx, long dxOff) {
    int hp = paddedHeight(g);
    int wp = paddedWidth(g);
    int h = g.inHeight();
    int w = g.inWidth();
    dx.asSlice(dxOff * Float.BYTES, (long) inBlocks(g) * h * w * B * Float.BYTES).fill((byte) 0);
    int x0 = Math.max(0, -g.padLeft());
    int x1 = Math.min(w, wp - g.padLeft());
    if (x1 <= x0) {
      return;
    }
    for (int ib = 0; ib < inBlocks(g); ib++) {
      for (int iy = Math.max(0, -g.padTop()); iy < Math.min(h, hp - g.padTop()); iy++) {
        long dst = dxOff + (((long) ib * h + iy) * w + x0) * B;
        int src = ((ib * hp + iy + g.padTop()) * wp + x0 + g.padLeft()) * B;
        MemorySegment.copy(dxp, src, dx, F32, dst * Float.BYTES, (x1 - x0) * B);
      }
    }
  }

  // y_img: (OB, OH, OW, 16) = act(conv(xp, W) + b), xp a padded image, bias (OB*16) zero-padded.
  public static void forwardImage(ConvGeometry g, float[] xp, float[] wp, float[] bias, FusedActivation act,
      MemorySegment y, long yOff) {
    if (!KernelSwitch.vector()) {
      forwardImageScalar(g, xp, wp, bias, act, y, yOff);
      return;
    }
    int ow = g.outWidth();
    for (int ob = 0; ob < outBlocks(g); ob++) {
      for (int oy = 0; oy < g.outHeight(); oy++) {
        long row = yOff + ((long) ob * g.outHeight() + oy) * ow * B;
        if (ow < TILE) {
          for (int ox = 0; ox < ow; ox++) {
            forwardPixel(g, xp, wp, bias, act, ob, oy, ox, y, row + (long) ox * B);
          }
          continue;
        }
        for (int ox = 0; ox < ow; ox += TILE) {
          // The last tile of a row overlaps the previous one: recomputed outputs are equal.
          int start = Math.min(ox, ow - TILE);
          forwardTile(g, xp, wp, bias, act, ob, oy, start, y, row + (long) start * B);
        }
      }
    }
  }

  // Vectors never cross a call boundary here: a vector argument is an object, and accumulators
  // started from one are not kept in registers.
  private static void forwardTile(ConvGeometry g, float[] xp, float[] wp, float[] biases, FusedActivation act,
      int ob, int oy, int ox0, MemorySegment y, long yAt) {
    FloatVector bias = FloatVector.fromArray(S, biases, ob * B);
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    int kh = g.kernelH();
    int kw = g.kernelW();
    int kk = kh * kw;
    int c = g.inChannels();
    int step = g.strideW() * B;
    FloatVector a0 = bias;
    FloatVector a1 = bias;
    FloatVector a2 = bias;
    FloatVector a3 = bias;
    FloatVector a4 = bias;
    FloatVector a5 = bias;
    FloatVector a6 = bias;
    FloatVector a7 = bias;
    for (int ib = 0; ib < inBlocks(g); ib++) {
      int lanes = Math.min(B, c - ib * B);
      for (int i = 0; i < kh; i++) {
        int rowBase = ((ib * hp + oy * g.strideH() + i * g.dilationH()) * wpw + ox0 * g.strideW()) * B;
        for (int j = 0; j < kw; j++) {
          int px = rowBase + j * g.dilationW() * B;
          int wBase = ((ob * c + ib * B) * kk + i * kw + j) * B;
          for (int l = 0; l < lanes; l++) {
            FloatVector wv = FloatVector.fromArray(S, wp, wBase + l * kk * B);
            int at = px + l;
            a0 = wv.fma(FloatVector.broadcast(S, xp[at]), a0);
            a1 = wv.fma(FloatVector.broadcast(S, xp[at + step]), a1);
            a2 = wv.fma(FloatVector.broadcast(S, xp[at + 2 * step]), a2);
            a3 = wv.fma(FloatVector.broadcast(S, xp[at + 3 * step]), a3);
            a4 = wv.fma(FloatVector.broadcast(S, xp[at + 4 * step]), a4);
            a5 = wv.fma(FloatVector.broadcast(S, xp[at + 5 * step]), a5);
            a6 = wv.fma(FloatVector.broadcast(S, xp[at + 6 * step]), a6);
            a7 = wv.fma(FloatVector.broadcast(S, xp[at + 7 * step]), a7);
          }
        }
      }
    }
    if (act == FusedActivation.RELU) {
      FloatVector z = FloatVector.zero(S);
      a0 = a0.max(z);
      a1 = a1.max(z);
      a2 = a2.max(z);
      a3 = a3.max(z);
      a4 = a4.max(z);
      a5 = a5.max(z);
      a6 = a6.max(z);
      a7 = a7.max(z);
    }
    long bytes = yAt * Float.BYTES;
    long stride = (long) B * Float.BYTES;
    a0.intoMemorySegment(y, bytes, ORDER);
    a1.intoMemorySegment(y, bytes + stride, ORDER);
    a2.intoMemorySegment(y, bytes + 2 * stride, ORDER);
    a3.intoMemorySegment(y, bytes + 3 * stride, ORDER);
    a4.intoMemorySegment(y, bytes + 4 * stride, ORDER);
    a5.intoMemorySegment(y, bytes + 5 * stride, ORDER);
    a6.intoMemorySegment(y, bytes + 6 * stride, ORDER);
    a7.intoMemorySegment(y, bytes + 7 * stride, ORDER);
  }

  private static void forwardPixel(ConvGeometry g, float[] xp, float[] wp, float[] biases, FusedActivation act,
      int ob, int oy, int ox, MemorySegment y, long yAt) {
    FloatVector bias = FloatVector.fromArray(S, biases, ob * B);
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    int kh = g.kernelH();
    int kw = g.kernelW();
    int kk = kh * kw;
    int c = g.inChannels();
    FloatVector a = bias;
    for (int ib = 0; ib < inBlocks(g); ib++) {
      int lanes = Math.min(B, c - ib * B);
      for (int i = 0; i < kh; i++) {
        int rowBase = ((ib * hp + oy * g.strideH() + i * g.dilationH()) * wpw + ox * g.strideW()) * B;
        for (int j = 0; j < kw; j++) {
          int px = rowBase + j * g.dilationW() * B;
          int wBase = ((ob * c + ib * B) * kk + i * kw + j) * B;
          for (int l = 0; l < lanes; l++) {
            a = FloatVector.fromArray(S, wp, wBase + l * kk * B).fma(FloatVector.broadcast(S, xp[px + l]), a);
          }
        }
      }
    }
    if (act == FusedActivation.RELU) {
      a = a.max(0f);
    }
    a.intoMemorySegment(y, yAt * Float.BYTES, ORDER);
  }

  private static void forwardImageScalar(ConvGeometry g, float[] xp, float[] wp, float[] bias,
      FusedActivation act, MemorySegment y, long yOff) {
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    int kk = g.kernelH() * g.kernelW();
    int c = g.inChannels();
    float[] acc = new float[B];
    for (int ob = 0; ob < outBlocks(g); ob++) {
      for (int oy = 0; oy < g.outHeight(); oy++) {
        for (int ox = 0; ox < g.outWidth(); ox++) {
          System.arraycopy(bias, ob * B, acc, 0, B);
          for (int ic = 0; ic < c; ic++) {
            int ib = ic / B;
            for (int i = 0; i < g.kernelH(); i++) {
              for (int j = 0; j < g.kernelW(); j++) {
                float v = xp[((ib * hp + oy * g.strideH() + i * g.dilationH()) * wpw
                    + ox * g.strideW() + j * g.dilationW()) * B + ic % B];
                int wBase = ((ob * c + ic) * kk + i * g.kernelW() + j) * B;
                for (int o = 0; o < B; o++) {
                  acc[o] = Math.fma(wp[wBase + o], v, acc[o]);
                }
              }
            }
          }
          long at = yOff + (((long) ob * g.outHeight() + oy) * g.outWidth() + ox) * B;
          for (int o = 0; o < B; o++) {
            y.setAtIndex(F32, at + o, act.apply(acc[o]));
          }
        }
      }
    }
  }

  /** Copies one NCHWc output-gradient image at {@code dyOff} into the heap buffer {@code dyh}. */
  public static void copyOutputImage(ConvGeometry g, MemorySegment dy, long dyOff, float[] dyh) {
    MemorySegment.copy(dy, F32, dyOff * Float.BYTES, dyh, 0, outputImageSize(g));
  }

  /**
   * Differentiates {@link #forwardImage} by the input: dxp (padded, overwritten) = sum over
   * outputs and taps of W^T dz, scattered tile by tile. {@code dz} is the output gradient of one
   * image (activation already applied), {@code wt} the transposed weights.
   */
  public static void backwardDataImage(ConvGeometry g, float[] dz, float[] wt, float[] dxp) {
    java.util.Arrays.fill(dxp, 0, paddedImageSize(g), 0f);
    if (!KernelSwitch.vector()) {
      backwardDataScalar(g, dz, wt, dxp);
      return;
    }
    int ow = g.outWidth();
    for (int ib = 0; ib < inBlocks(g); ib++) {
      for (int oy = 0; oy < g.outHeight(); oy++) {
        if (ow < TILE) {
          for (int ox = 0; ox < ow; ox++) {
            backwardDataPixel(g, dz, wt, dxp, ib, oy, ox);
          }
          continue;
        }
        for (int ox = 0; ox < ow; ox += TILE) {
          int start = Math.min(ox, ow - TILE);
          backwardDataTile(g, dz, wt, dxp, ib, oy, start, ox - start);
        }
      }
    }
  }

  /** Scatters a tile of eight output pixels; the first {@code skip} were scattered by the previous tile. */
  private static void backwardDataTile(ConvGeometry g, float[] dz, float[] wt, float[] dxp, int ib, int oy,
      int ox0, int skip) {
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    int oc = g.outChannels();
    int opix = g.outPixels();
    int kw = g.kernelW();
    int step = g.strideW() * B;
    for (int i = 0; i < g.kernelH(); i++) {
      for (int j = 0; j < kw; j++) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        int wBase = ((ib * g.kernelH() + i) * kw + j) * oc * B;
        for (int ob = 0; ob < outBlocks(g); ob++) {
          int lanes = Math.min(B, oc - ob * B);
          int d = ((ob * opix) + oy * g.outWidth() + ox0) * B;
          for (int l = 0; l < lanes; l++) {
            FloatVector wv = FloatVector.fromArray(S, wt, wBase + (ob * B + l) * B);
            int at = d + l;
            a0 = wv.fma(FloatVector.broadcast(S, dz[at]), a0);
            a1 = wv.fma(FloatVector.broadcast(S, dz[at + B]), a1);
            a2 = wv.fma(FloatVector.broadcast(S, dz[at + 2 * B]), a2);
            a3 = wv.fma(FloatVector.broadcast(S, dz[at + 3 * B]), a3);
            a4 = wv.fma(FloatVector.broadcast(S, dz[at + 4 * B]), a4);
            a5 = wv.fma(FloatVector.broadcast(S, dz[at + 5 * B]), a5);
            a6 = wv.fma(FloatVector.broadcast(S, dz[at + 6 * B]), a6);
            a7 = wv.fma(FloatVector.broadcast(S, dz[at + 7 * B]), a7);
          }
        }
        int px = ((ib * hp + oy * g.strideH() + i * g.dilationH()) * wpw + ox0 * g.strideW() + j * g.dilationW()) * B;
        // Added here rather than by a helper taking the vector: C2 boxes a vector passed to a call
        // it does not inline, and then boxes the loop's accumulator at every FMA.
        if (skip == 0) {
          FloatVector.fromArray(S, dxp, px).add(a0).intoArray(dxp, px);
        }
        if (skip <= 1) {
          FloatVector.fromArray(S, dxp, px + step).add(a1).intoArray(dxp, px + step);
        }
        if (skip <= 2) {
          FloatVector.fromArray(S, dxp, px + 2 * step).add(a2).intoArray(dxp, px + 2 * step);
        }
        if (skip <= 3) {
          FloatVector.fromArray(S, dxp, px + 3 * step).add(a3).intoArray(dxp, px + 3 * step);
        }
        if (skip <= 4) {
          FloatVector.fromArray(S, dxp, px + 4 * step).add(a4).intoArray(dxp, px + 4 * step);
        }
        if (skip <= 5) {
          FloatVector.fromArray(S, dxp, px + 5 * step).add(a5).intoArray(dxp, px + 5 * step);
        }
        if (skip <= 6) {
          FloatVector.fromArray(S, dxp, px + 6 * step).add(a6).intoArray(dxp, px + 6 * step);
        }
        if (skip <= 7) {
          FloatVector.fromArray(S, dxp, px + 7 * step).add(a7).intoArray(dxp, px + 7 * step);
        }
      }
    }
  }

  private static void backwardDataPixel(ConvGeometry g, float[] dz, float[] wt, float[] dxp, int ib, int oy, int ox) {
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    int oc = g.outChannels();
    int kw = g.kernelW();
    for (int i = 0; i < g.kernelH(); i++) {
      for (int j = 0; j < kw; j++) {
        FloatVector a = FloatVector.zero(S);
        int wBase = ((ib * g.kernelH() + i) * kw + j) * oc * B;
        for (int ob = 0; ob < outBlocks(g); ob++) {
          int lanes = Math.min(B, oc - ob * B);
          int d = ((ob * g.outPixels()) + oy * g.outWidth() + ox) * B;
          for (int l = 0; l < lanes; l++) {
            a = FloatVector.fromArray(S, wt, wBase + (ob * B + l) * B).fma(FloatVector.broadcast(S, dz[d + l]), a);
          }
        }
        int px = ((ib * hp + oy * g.strideH() + i * g.dilationH()) * wpw + ox * g.strideW() + j * g.dilationW()) * B;
        FloatVector.fromArray(S, dxp, px).add(a).intoArray(dxp, px);
      }
    }
  }

  private static void backwardDataScalar(ConvGeometry g, float[] dz, float[] wt, float[] dxp) {
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    int oc = g.outChannels();
    int kw = g.kernelW();
    for (int ib = 0; ib < inBlocks(g); ib++) {
      for (int oy = 0; oy < g.outHeight(); oy++) {
        for (int ox = 0; ox < g.outWidth(); ox++) {
          for (int i = 0; i < g.kernelH(); i++) {
            for (int j = 0; j < kw; j++) {
              int px = ((ib * hp + oy * g.strideH() + i * g.dilationH()) * wpw + ox * g.strideW()
                  + j * g.dilationW()) * B;
              int wBase = ((ib * g.kernelH() + i) * kw + j) * oc * B;
              for (int o = 0; o < oc; o++) {
                float d = dz[((o / B) * g.outPixels() + oy * g.outWidth() + ox) * B + o % B];
                for (int l = 0; l < B; l++) {
                  dxp[px + l] = Math.fma(wt[wBase + o * B + l], d, dxp[px + l]);
                }
              }
            }
          }
        }
      }
    }
  }

  /**
   * Differentiates {@link #forwardImage} by the weights and bias for one image: dwp (packed
   * (ceil(OC/16), C, KH, KW, 16)) += sum over pixels of x * dz, db (OB*16) += sum of dz.
   */
  public static void backwardWeightsImage(ConvGeometry g, float[] xp, float[] dz, float[] dwp, float[] db) {
    if (!KernelSwitch.vector()) {
      backwardWeightsScalar(g, xp, dz, dwp, db);
      return;
    }
    int c = g.inChannels();
    int kk = g.kernelH() * g.kernelW();
    int opix = g.outPixels();
    for (int ob = 0; ob < outBlocks(g); ob++) {
      if (db != null) {
        FloatVector s = FloatVector.fromArray(S, db, ob * B);
        for (int p = 0; p < opix; p++) {
          s = s.add(FloatVector.fromArray(S, dz, (ob * opix + p) * B));
        }
        s.intoArray(db, ob * B);
      }
      for (int ib = 0; ib < inBlocks(g); ib++) {
        int lanes = Math.min(B, c - ib * B);
        for (int i = 0; i < g.kernelH(); i++) {
          for (int j = 0; j < g.kernelW(); j++) {
            int wBase = ((ob * c + ib * B) * kk + i * g.kernelW() + j) * B;
            if (lanes == B) {
              weightTap16(g, xp, dz, dwp, ob, ib, i, j, wBase, kk * B);
            } else {
              for (int l = 0; l < lanes; l++) {
                weightTap1(g, xp, dz, dwp, ob, ib, i, j, l, wBase + l * kk * B);
              }
            }
          }
        }
      }
    }
  }

  /** One tap (i, j), all 16 input channels of block ib, output block ob: 16 accumulators over the pixels. */
  private static void weightTap16(ConvGeometry g, float[] xp, float[] dz, float[] dwp, int ob, int ib, int i,
      int j, int wBase, int laneStride) {
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    FloatVector z = FloatVector.zero(S);
    FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z;
    FloatVector a8 = z, a9 = z, a10 = z, a11 = z, a12 = z, a13 = z, a14 = z, a15 = z;
    int step = g.strideW() * B;
    for (int oy = 0; oy < g.outHeight(); oy++) {
      int px = ((ib * hp + oy * g.strideH() + i * g.dilationH()) * wpw + j * g.dilationW()) * B;
      int d = (ob * g.outPixels() + oy * g.outWidth()) * B;
      for (int ox = 0; ox < g.outWidth(); ox++, px += step, d += B) {
        FloatVector dv = FloatVector.fromArray(S, dz, d);
        a0 = dv.fma(FloatVector.broadcast(S, xp[px]), a0);
        a1 = dv.fma(FloatVector.broadcast(S, xp[px + 1]), a1);
        a2 = dv.fma(FloatVector.broadcast(S, xp[px + 2]), a2);
        a3 = dv.fma(FloatVector.broadcast(S, xp[px + 3]), a3);
        a4 = dv.fma(FloatVector.broadcast(S, xp[px + 4]), a4);
        a5 = dv.fma(FloatVector.broadcast(S, xp[px + 5]), a5);
        a6 = dv.fma(FloatVector.broadcast(S, xp[px + 6]), a6);
        a7 = dv.fma(FloatVector.broadcast(S, xp[px + 7]), a7);
        a8 = dv.fma(FloatVector.broadcast(S, xp[px + 8]), a8);
        a9 = dv.fma(FloatVector.broadcast(S, xp[px + 9]), a9);
        a10 = dv.fma(FloatVector.broadcast(S, xp[px + 10]), a10);
        a11 = dv.fma(FloatVector.broadcast(S, xp[px + 11]), a11);
        a12 = dv.fma(FloatVector.broadcast(S, xp[px + 12]), a12);
        a13 = dv.fma(FloatVector.broadcast(S, xp[px + 13]), a13);
        a14 = dv.fma(FloatVector.broadcast(S, xp[px + 14]), a14);
        a15 = dv.fma(FloatVector.broadcast(S, xp[px + 15]), a15);
      }
    }
    FloatVector.fromArray(S, dwp, wBase).add(a0).intoArray(dwp, wBase);
    FloatVector.fromArray(S, dwp, wBase + laneStride).add(a1).intoArray(dwp, wBase + laneStride);
    FloatVector.fromArray(S, dwp, wBase + 2 * laneStride).add(a2).intoArray(dwp, wBase + 2 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 3 * laneStride).add(a3).intoArray(dwp, wBase + 3 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 4 * laneStride).add(a4).intoArray(dwp, wBase + 4 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 5 * laneStride).add(a5).intoArray(dwp, wBase + 5 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 6 * laneStride).add(a6).intoArray(dwp, wBase + 6 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 7 * laneStride).add(a7).intoArray(dwp, wBase + 7 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 8 * laneStride).add(a8).intoArray(dwp, wBase + 8 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 9 * laneStride).add(a9).intoArray(dwp, wBase + 9 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 10 * laneStride).add(a10).intoArray(dwp, wBase + 10 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 11 * laneStride).add(a11).intoArray(dwp, wBase + 11 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 12 * laneStride).add(a12).intoArray(dwp, wBase + 12 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 13 * laneStride).add(a13).intoArray(dwp, wBase + 13 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 14 * laneStride).add(a14).intoArray(dwp, wBase + 14 * laneStride);
    FloatVector.fromArray(S, dwp, wBase + 15 * laneStride).add(a15).intoArray(dwp, wBase + 15 * laneStride);
  }

  /** One tap, one input channel (a partial input block): one accumulator over the pixels. */
  private static void weightTap1(ConvGeometry g, float[] xp, float[] dz, float[] dwp, int ob, int ib, int i,
      int j, int l, int wAt) {
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    FloatVector a = FloatVector.zero(S);
    int step = g.strideW() * B;
    for (int oy = 0; oy < g.outHeight(); oy++) {
      int px = ((ib * hp + oy * g.strideH() + i * g.dilationH()) * wpw + j * g.dilationW()) * B + l;
      int d = (ob * g.outPixels() + oy * g.outWidth()) * B;
      for (int ox = 0; ox < g.outWidth(); ox++, px += step, d += B) {
        a = FloatVector.fromArray(S, dz, d).fma(FloatVector.broadcast(S, xp[px]), a);
      }
    }
    FloatVector.fromArray(S, dwp, wAt).add(a).intoArray(dwp, wAt);
  }

  private static void backwardWeightsScalar(ConvGeometry g, float[] xp, float[] dz, float[] dwp, float[] db) {
    int hp = paddedHeight(g);
    int wpw = paddedWidth(g);
    int c = g.inChannels();
    int kk = g.kernelH() * g.kernelW();
    int opix = g.outPixels();
    for (int ob = 0; ob < outBlocks(g); ob++) {
      if (db != null) {
        for (int p = 0; p < opix; p++) {
          for (int o = 0; o < B; o++) {
            db[ob * B + o] += dz[(ob * opix + p) * B + o];
          }
        }
      }
      for (int ic = 0; ic < c; ic++) {
        for (int i = 0; i < g.kernelH(); i++) {
          for (int j = 0; j < g.kernelW(); j++) {
            int wBase = ((ob * c + ic) * kk + i * g.kernelW() + j) * B;
            for (int oy = 0; oy < g.outHeight(); oy++) {
              for (int ox = 0; ox < g.outWidth(); ox++) {
                float v = xp[((ic / B * hp + oy * g.strideH() + i * g.dilationH()) * wpw
                    + ox * g.strideW() + j * g.dilationW()) * B + ic % B];
                int d = (ob * opix + oy * g.outWidth() + ox) * B;
                for (int o = 0; o < B; o++) {
                  dwp[wBase + o] = Math.fma(dz[d + o], v, dwp[wBase + o]);
                }
              }
            }
          }
        }
      }
    }
  }
}
