package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import java.lang.foreign.MemorySegment;

/**
 * Depthwise convolution (groups == input channels; each channel feeds {@code OC / C} outputs of
 * its own) computed directly for one image, the way MobileNet blocks need it: as im2col + GEMM it
 * would be one GEMM with a single row per channel. The caller runs images in parallel. Offsets are
 * in floats; w is (OC, 1, KH, KW).
 */
public final class DepthwiseConv2d {
  private DepthwiseConv2d() {}

  /** Whether this kernel computes {@code g}. */
  public static boolean supports(ConvGeometry g) {
    return g.groups() == g.inChannels() && g.groups() > 1;
  }

  /** y[oc][oy][ox] = b[oc] + sum over kh, kw of w[oc][kh][kw] * x[oc / M][iy][ix], M = OC / C. */
  public static void forwardImage(
      ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, MemorySegment b, MemorySegment y, long yOff) {
    int multiplier = g.outChannelsPerGroup();
    int kk = g.kernelH() * g.kernelW();
    for (int oc = 0; oc < g.outChannels(); oc++) {
      long plane = xOff + (long) (oc / multiplier) * g.inPixels();
      long out = yOff + (long) oc * g.outPixels();
      long wBase = (long) oc * kk;
      float bias = b == null ? 0f : b.getAtIndex(F32, oc);
      for (int oy = 0; oy < g.outHeight(); oy++) {
        for (int ox = 0; ox < g.outWidth(); ox++) {
          float sum = bias;
          for (int kh = 0; kh < g.kernelH(); kh++) {
            int iy = oy * g.strideH() - g.padTop() + kh * g.dilationH();
            if (iy < 0 || iy >= g.inHeight()) {
              continue;
            }
            long row = plane + (long) iy * g.inWidth();
            for (int kw = 0; kw < g.kernelW(); kw++) {
              int ix = ox * g.strideW() - g.padLeft() + kw * g.dilationW();
              if (ix >= 0 && ix < g.inWidth()) {
                sum += w.getAtIndex(F32, wBase + (long) kh * g.kernelW() + kw) * x.getAtIndex(F32, row + ix);
              }
            }
          }
          y.setAtIndex(F32, out + (long) oy * g.outWidth() + ox, sum);
        }
      }
    }
  }

  /**
   * Backward of {@link #forwardImage}: dw[oc] (+)= sum of dy * x over the taps, db[oc] (+)= sum of
   * dy (written when {@code firstImage}, accumulated otherwise), and when dx is not null dx_img =
   * sum of w * dy over the outputs each input feeds (overwritten).
   */
  public static void backwardImage(
      ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, MemorySegment dy, long dyOff,
      MemorySegment dw, MemorySegment db, boolean firstImage, MemorySegment dx, long dxOff) {
    int multiplier = g.outChannelsPerGroup();
    int kk = g.kernelH() * g.kernelW();
    if (firstImage) {
      dw.asSlice(0, g.weightCount() * Float.BYTES).fill((byte) 0);
      if (db != null) {
        db.asSlice(0, (long) g.outChannels() * Float.BYTES).fill((byte) 0);
      }
    }
    if (dx != null) {
      dx.asSlice(dxOff * Float.BYTES, g.inputSize() * Float.BYTES).fill((byte) 0);
    }
    for (int oc = 0; oc < g.outChannels(); oc++) {
      long plane = (long) (oc / multiplier) * g.inPixels();
      long out = dyOff + (long) oc * g.outPixels();
      long wBase = (long) oc * kk;
      float biasSum = 0f;
      for (int oy = 0; oy < g.outHeight(); oy++) {
        for (int ox = 0; ox < g.outWidth(); ox++) {
          float grad = dy.getAtIndex(F32, out + (long) oy * g.outWidth() + ox);
          biasSum += grad;
          for (int kh = 0; kh < g.kernelH(); kh++) {
            int iy = oy * g.strideH() - g.padTop() + kh * g.dilationH();
            if (iy < 0 || iy >= g.inHeight()) {
              continue;
            }
            long row = plane + (long) iy * g.inWidth();
            for (int kw = 0; kw < g.kernelW(); kw++) {
              int ix = ox * g.strideW() - g.padLeft() + kw * g.dilationW();
              if (ix < 0 || ix >= g.inWidth()) {
                continue;
              }
              long wi = wBase + (long) kh * g.kernelW() + kw;
              dw.setAtIndex(F32, wi, dw.getAtIndex(F32, wi) + grad * x.getAtIndex(F32, xOff + row + ix));
              if (dx != null) {
                long xi = dxOff + row + ix;
                dx.setAtIndex(F32, xi, dx.getAtIndex(F32, xi) + grad * w.getAtIndex(F32, wi));
              }
            }
          }
        }
      }
      if (db != null) {
        db.setAtIndex(F32, oc, db.getAtIndex(F32, oc) + biasSum);
      }
    }
  }
}
