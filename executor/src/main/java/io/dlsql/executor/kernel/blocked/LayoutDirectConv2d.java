package io.dlsql.executor.kernel.blocked;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.tensor.Layout;
import java.lang.foreign.MemorySegment;

/**
 * The direct convolution (the definition as plain loops, single-threaded) over a batch in any
 * layout: the same sums as the NCHW variant 0, with every input and output index taken through
 * {@link Layout#offset}. It is the direct algorithm for NHWC and NCHWc, and the layouts' own
 * reference. Weights (OC, C/groups, KH, KW), bias (OC) or null.
 */
public final class LayoutDirectConv2d {
  private LayoutDirectConv2d() {}

  // y[n][oc][oy][ox] = b[oc] + sum over the group's ic, kh, kw of w[oc][ic][kh][kw] * x[n][ic][iy][ix]
  public static void forward(ConvGeometry g, Layout layout, int n, MemorySegment x, MemorySegment w,
      MemorySegment b, MemorySegment y) {
    int ocg = g.outChannelsPerGroup();
    for (int img = 0; img < n; img++) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        for (int oy = 0; oy < g.outHeight(); oy++) {
          for (int ox = 0; ox < g.outWidth(); ox++) {
            float sum = b == null ? 0f : b.getAtIndex(F32, oc);
            int firstIc = (oc / ocg) * g.inChannelsPerGroup();
            for (int ic = 0; ic < g.inChannelsPerGroup(); ic++) {
              for (int kh = 0; kh < g.kernelH(); kh++) {
                int iy = oy * g.strideH() - g.padTop() + kh * g.dilationH();
                for (int kw = 0; kw < g.kernelW(); kw++) {
                  int ix = ox * g.strideW() - g.padLeft() + kw * g.dilationW();
                  if (iy >= 0 && iy < g.inHeight() && ix >= 0 && ix < g.inWidth()) {
                    sum += w.getAtIndex(F32, weightIndex(g, oc, ic, kh, kw))
                        * x.getAtIndex(F32, in(g, layout, img, firstIc + ic, iy, ix));
                  }
                }
              }
            }
            y.setAtIndex(F32, out(g, layout, img, oc, oy, ox), sum);
          }
        }
      }
    }
  }

  /** Differentiates {@link #forward} by x (dx overwritten, its padding channels left zero). */
  public static void backwardData(ConvGeometry g, Layout layout, int n, MemorySegment dy, MemorySegment w,
      MemorySegment dx) {
    dx.asSlice(0, n * layout.imageSize(g.inChannels(), g.inHeight(), g.inWidth()) * Float.BYTES).fill((byte) 0);
    forEachTap(g, n, (img, oc, ic, kh, kw, iy, ix, oy, ox) -> {
      long xi = in(g, layout, img, ic, iy, ix);
      dx.setAtIndex(F32, xi, dx.getAtIndex(F32, xi)
          + w.getAtIndex(F32, weightIndex(g, oc, ic % g.inChannelsPerGroup(), kh, kw))
          * dy.getAtIndex(F32, out(g, layout, img, oc, oy, ox)));
    });
  }

  /** Differentiates {@link #forward} by w and b (overwritten; db may be null). */
  public static void backwardWeights(ConvGeometry g, Layout layout, int n, MemorySegment x, MemorySegment dy,
      MemorySegment dw, MemorySegment db) {
    dw.asSlice(0, g.weightCount() * Float.BYTES).fill((byte) 0);
    forEachTap(g, n, (img, oc, ic, kh, kw, iy, ix, oy, ox) -> {
      long wi = weightIndex(g, oc, ic % g.inChannelsPerGroup(), kh, kw);
      dw.setAtIndex(F32, wi, dw.getAtIndex(F32, wi)
          + x.getAtIndex(F32, in(g, layout, img, ic, iy, ix)) * dy.getAtIndex(F32, out(g, layout, img, oc, oy, ox)));
    });
    if (db == null) {
      return;
    }
    for (int oc = 0; oc < g.outChannels(); oc++) {
      float sum = 0f;
      for (int img = 0; img < n; img++) {
        for (int oy = 0; oy < g.outHeight(); oy++) {
          for (int ox = 0; ox < g.outWidth(); ox++) {
            sum += dy.getAtIndex(F32, out(g, layout, img, oc, oy, ox));
          }
        }
      }
      db.setAtIndex(F32, oc, sum);
    }
  }

  @FunctionalInterface
  private interface Tap {
    void at(int img, int oc, int ic, int kh, int kw, int iy, int ix, int oy, int ox);
  }

  private static void forEachTap(ConvGeometry g, int n, Tap tap) {
    int ocg = g.outChannelsPerGroup();
    for (int img = 0; img < n; img++) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        int firstIc = (oc / ocg) * g.inChannelsPerGroup();
        for (int oy = 0; oy < g.outHeight(); oy++) {
          for (int ox = 0; ox < g.outWidth(); ox++) {
            for (int ic = 0; ic < g.inChannelsPerGroup(); ic++) {
              for (int kh = 0; kh < g.kernelH(); kh++) {
                int iy = oy * g.strideH() - g.padTop() + kh * g.dilationH();
                if (iy < 0 || iy >= g.inHeight()) {
                  continue;
                }
                for (int kw = 0; kw < g.kernelW(); kw++) {
                  int ix = ox * g.strideW() - g.padLeft() + kw * g.dilationW();
                  if (ix >= 0 && ix < g.inWidth()) {
                    tap.at(img, oc, firstIc + ic, kh, kw, iy, ix, oy, ox);
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

  private static long in(ConvGeometry g, Layout layout, int img, int c, int y, int x) {
    return img * layout.imageSize(g.inChannels(), g.inHeight(), g.inWidth())
        + layout.offset(g.inChannels(), g.inHeight(), g.inWidth(), c, y, x);
  }

  private static long out(ConvGeometry g, Layout layout, int img, int c, int y, int x) {
    return img * layout.imageSize(g.outChannels(), g.outHeight(), g.outWidth())
        + layout.offset(g.outChannels(), g.outHeight(), g.outWidth(), c, y, x);
  }
}
