package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import java.lang.foreign.MemorySegment;

/**
 * Variant 0 of convolution: the definition as plain loops, single-threaded, no lowering. Every
 * faster algorithm is tested against it. Layouts: x (N, C, H, W), w (OC, C/groups, KH, KW), b
 * (OC) or null, y (N, OC, OH, OW).
 */
public final class DirectConv2d {
  private DirectConv2d() {}

  /** y[n][oc][oh][ow] = b[oc] + sum over the group's ic, kh, kw of w[oc][ic][kh][kw] * x[n][ic][ih][iw]. */
  public static void forward(
      ConvGeometry g, int n, MemorySegment x, MemorySegment w, MemorySegment b, MemorySegment y) {
    int cg = g.inChannelsPerGroup();
    int ocg = g.outChannelsPerGroup();
    for (int img = 0; img < n; img++) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        int firstIc = (oc / ocg) * cg;
        for (int oy = 0; oy < g.outHeight(); oy++) {
          for (int ox = 0; ox < g.outWidth(); ox++) {
            float sum = b == null ? 0f : b.getAtIndex(F32, oc);
            for (int ic = 0; ic < cg; ic++) {
              for (int kh = 0; kh < g.kernelH(); kh++) {
                int iy = oy * g.strideH() - g.padTop() + kh * g.dilationH();
                if (iy < 0 || iy >= g.inHeight()) {
                  continue;
                }
                for (int kw = 0; kw < g.kernelW(); kw++) {
                  int ix = ox * g.strideW() - g.padLeft() + kw * g.dilationW();
                  if (ix < 0 || ix >= g.inWidth()) {
                    continue;
                  }
                  sum += w.getAtIndex(F32, weightIndex(g, oc, ic, kh, kw))
                      * x.getAtIndex(F32, inputIndex(g, img, firstIc + ic, iy, ix));
                }
              }
            }
            y.setAtIndex(F32, outputIndex(g, img, oc, oy, ox), sum);
          }
        }
      }
    }
  }

  /** Differentiates {@link #forward} by x: dx[n][ic][iy][ix] = sum of w * dy over the outputs x feeds. */
  public static void backwardData(
      ConvGeometry g, int n, MemorySegment dy, MemorySegment w, MemorySegment dx) {
    dx.asSlice(0, n * g.inputSize() * Float.BYTES).fill((byte) 0);
    forEachTap(g, n, (img, oc, ic, kh, kw, iy, ix, oIndex) -> {
      long xi = inputIndex(g, img, ic, iy, ix);
      dx.setAtIndex(F32, xi, dx.getAtIndex(F32, xi)
          + w.getAtIndex(F32, weightIndex(g, oc, ic % g.inChannelsPerGroup(), kh, kw)) * dy.getAtIndex(F32, oIndex));
    });
  }

  /** Differentiates {@link #forward} by w and b: dw = sum of x * dy, db[oc] = sum of dy[., oc]. Overwrites dw, db. */
  public static void backwardWeights(
      ConvGeometry g, int n, MemorySegment x, MemorySegment dy, MemorySegment dw, MemorySegment db) {
    dw.asSlice(0, g.weightCount() * Float.BYTES).fill((byte) 0);
    forEachTap(g, n, (img, oc, ic, kh, kw, iy, ix, oIndex) -> {
      long wi = weightIndex(g, oc, ic % g.inChannelsPerGroup(), kh, kw);
      dw.setAtIndex(F32, wi, dw.getAtIndex(F32, wi)
          + x.getAtIndex(F32, inputIndex(g, img, ic, iy, ix)) * dy.getAtIndex(F32, oIndex));
    });
    if (db != null) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        float sum = 0f;
        for (int img = 0; img < n; img++) {
          for (int p = 0; p < g.outPixels(); p++) {
            sum += dy.getAtIndex(F32, outputIndex(g, img, oc, 0, 0) + p);
          }
        }
        db.setAtIndex(F32, oc, sum);
      }
    }
  }

  @FunctionalInterface
  private interface Tap {
    void at(int img, int oc, int ic, int kh, int kw, int iy, int ix, long outputIndex);
  }

  /** Visits every (output, weight, input) triple that contributes to the convolution. */
  private static void forEachTap(ConvGeometry g, int n, Tap tap) {
    int cg = g.inChannelsPerGroup();
    int ocg = g.outChannelsPerGroup();
    for (int img = 0; img < n; img++) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        int firstIc = (oc / ocg) * cg;
        for (int oy = 0; oy < g.outHeight(); oy++) {
          for (int ox = 0; ox < g.outWidth(); ox++) {
            long oIndex = outputIndex(g, img, oc, oy, ox);
            for (int ic = 0; ic < cg; ic++) {
              for (int kh = 0; kh < g.kernelH(); kh++) {
                int iy = oy * g.strideH() - g.padTop() + kh * g.dilationH();
                if (iy < 0 || iy >= g.inHeight()) {
                  continue;
                }
                for (int kw = 0; kw < g.kernelW(); kw++) {
                  int ix = ox * g.strideW() - g.padLeft() + kw * g.dilationW();
                  if (ix >= 0 && ix < g.inWidth()) {
                    tap.at(img, oc, firstIc + ic, kh, kw, iy, ix, oIndex);
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  private static long weightIndex(ConvGeometry g, int oc, int icInGroup, int kh, int kw) {
    return (((long) oc * g.inChannelsPerGroup() + icInGroup) * g.kernelH() + kh) * g.kernelW() + kw;
  }

  private static long inputIndex(ConvGeometry g, int img, int ic, int iy, int ix) {
    return (((long) img * g.inChannels() + ic) * g.inHeight() + iy) * g.inWidth() + ix;
  }

  private static long outputIndex(ConvGeometry g, int img, int oc, int oy, int ox) {
    return (((long) img * g.outChannels() + oc) * g.outHeight() + oy) * g.outWidth() + ox;
  }
}
