package io.dlsql.executor.kernel.blocked;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import java.lang.foreign.MemorySegment;

/**
 * im2col + GEMM on NHWC, without transposes: the lowered matrix has one row per output pixel
 * (im2row), holding for each group the taps in (kh, kw, c) order, so each tap is a copy of a
 * pixel's contiguous channels; the output (pixels, OC) of {@code rows x W^T} is the NHWC output
 * itself, and a pointwise convolution's rows are the input. Weights are repacked once per call
 * into (OC, KH*KW*C/groups), tap-major. Images go {@link #imagesPerGemm} at a time, like the NCHW
 * im2col, so small feature maps still make tall GEMMs. Offsets are in floats.
 */
public final class Im2rowConv2d {
  private Im2rowConv2d() {}

  /** GEMM rows per call at most (unless one image has more), as in the NCHW im2col. */
  static final int TARGET_ROWS = 1024;
  static final int MAX_IMAGES_PER_GEMM = 32;
  /** Below this many channels per tap a plain loop copies faster than a segment copy call. */
  private static final int COPY_CALL_MIN = 8;

  public static int imagesPerGemm(ConvGeometry g) {
    return Math.clamp(TARGET_ROWS / g.outPixels(), 1, MAX_IMAGES_PER_GEMM);
  }

  /** Columns of one group's part of a row: KH * KW * C/groups. */
  static int groupColumns(ConvGeometry g) {
    return g.kernelH() * g.kernelW() * g.inChannelsPerGroup();
  }

  /** Columns of a whole row (all groups). */
  static int rowLength(ConvGeometry g) {
    return groupColumns(g) * g.groups();
  }

  /** Whether the input itself is the row matrix (1x1, stride 1, no padding, one group). */
  static boolean rowsAreInput(ConvGeometry g) {
    return g.isPointwise() && g.groups() == 1;
  }

  /** Floats of workspace one thread needs: the row block. */
  public static long workspaceSize(ConvGeometry g) {
    return rowsAreInput(g) ? 1 : (long) imagesPerGemm(g) * g.outPixels() * rowLength(g);
  }

  /** Floats of the repacked weights (and of their gradient). */
  public static long packedWeightsSize(ConvGeometry g) {
    return g.weightCount();
  }

  /** w (OC, C/groups, KH, KW) -> wp (OC, KH, KW, C/groups). */
  public static void packWeights(ConvGeometry g, MemorySegment w, MemorySegment wp) {
    int kk = g.kernelH() * g.kernelW();
    int cg = g.inChannelsPerGroup();
    for (int oc = 0; oc < g.outChannels(); oc++) {
      for (int c = 0; c < cg; c++) {
        for (int k = 0; k < kk; k++) {
          wp.setAtIndex(F32, ((long) oc * kk + k) * cg + c, w.getAtIndex(F32, ((long) oc * cg + c) * kk + k));
        }
      }
    }
  }

  /** dwp (OC, KH, KW, C/groups) -> dw (OC, C/groups, KH, KW). */
  public static void unpackWeights(ConvGeometry g, MemorySegment dwp, MemorySegment dw) {
    int kk = g.kernelH() * g.kernelW();
    int cg = g.inChannelsPerGroup();
    for (int oc = 0; oc < g.outChannels(); oc++) {
      for (int c = 0; c < cg; c++) {
        for (int k = 0; k < kk; k++) {
          dw.setAtIndex(F32, ((long) oc * cg + c) * kk + k, dwp.getAtIndex(F32, ((long) oc * kk + k) * cg + c));
        }
      }
    }
  }

  /** Writes the rows of one NHWC image at {@code xOff} into {@code rows} from row offset {@code rowOff}. */
  static void im2row(ConvGeometry g, MemorySegment x, long xOff, MemorySegment rows, long rowOff) {
    int cg = g.inChannelsPerGroup();
    int len = rowLength(g);
    int gc = groupColumns(g);
    for (int oy = 0; oy < g.outHeight(); oy++) {
      for (int ox = 0; ox < g.outWidth(); ox++) {
        long row = rowOff + ((long) oy * g.outWidth() + ox) * len;
        for (int kh = 0; kh < g.kernelH(); kh++) {
          int iy = oy * g.strideH() - g.padTop() + kh * g.dilationH();
          for (int kw = 0; kw < g.kernelW(); kw++) {
            int ix = ox * g.strideW() - g.padLeft() + kw * g.dilationW();
            boolean inside = iy >= 0 && iy < g.inHeight() && ix >= 0 && ix < g.inWidth();
            long src = xOff + ((long) iy * g.inWidth() + ix) * g.inChannels();
            for (int gi = 0; gi < g.groups(); gi++) {
              long dst = row + (long) gi * gc + (kh * g.kernelW() + kw) * cg;
              if (!inside) {
                rows.asSlice(dst * Float.BYTES, (long) cg * Float.BYTES).fill((byte) 0);
              } else if (cg >= COPY_CALL_MIN) {
                MemorySegment.copy(x, (src + (long) gi * cg) * Float.BYTES, rows, dst * Float.BYTES,
                    (long) cg * Float.BYTES);
              } else {
                for (int c = 0; c < cg; c++) {
                  rows.setAtIndex(F32, dst + c, x.getAtIndex(F32, src + (long) gi * cg + c));
                }
              }
            }
          }
        }
      }
    }
  }

  /** Adds the row gradients of one image back into dx (NHWC, at {@code dxOff}, overwritten first). */
  static void row2im(ConvGeometry g, MemorySegment rows, long rowOff, MemorySegment dx, long dxOff) {
    int cg = g.inChannelsPerGroup();
    int len = rowLength(g);
    int gc = groupColumns(g);
    dx.asSlice(dxOff * Float.BYTES, g.inputSize() * Float.BYTES).fill((byte) 0);
    for (int oy = 0; oy < g.outHeight(); oy++) {
      for (int ox = 0; ox < g.outWidth(); ox++) {
        long row = rowOff + ((long) oy * g.outWidth() + ox) * len;
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
            long dst = dxOff + ((long) iy * g.inWidth() + ix) * g.inChannels();
            for (int gi = 0; gi < g.groups(); gi++) {
              ElementwiseKernels.addInto(dx, dst + (long) gi * cg, rows,
                  row + (long) gi * gc + (kh * g.kernelW() + kw) * cg, cg);
            }
          }
        }
      }
    }
  }

  // y (count, OH, OW, OC) = act(conv(x (count, H, W, C), w) + b), wp the packed weights, b may be null
  public static void forward(ConvGeometry g, int count, MemorySegment x, long xOff, MemorySegment wp,
      MemorySegment b, FusedActivation act, MemorySegment ws, MemorySegment y, long yOff) {
    int step = imagesPerGemm(g);
    int oc = g.outChannels();
    int ocg = g.outChannelsPerGroup();
    int gc = groupColumns(g);
    int len = rowLength(g);
    for (int first = 0; first < count; first += step) {
      int images = Math.min(step, count - first);
      int pixels = images * g.outPixels();
      MemorySegment rows = ws;
      long rowOff = 0;
      if (rowsAreInput(g)) {
        rows = x;
        rowOff = xOff + first * g.inputSize();
      } else {
        for (int i = 0; i < images; i++) {
          im2row(g, x, xOff + (first + i) * g.inputSize(), ws, (long) i * g.outPixels() * len);
        }
      }
      long out = yOff + first * g.outputSize();
      for (int gi = 0; gi < g.groups(); gi++) {
        Gemm.sgemm(false, true, pixels, ocg, gc, 1f, rows, rowOff + (long) gi * gc, len,
            wp, (long) gi * ocg * gc, gc, 0f, y, out + (long) gi * ocg, oc);
      }
      if (b != null) {
        for (int p = 0; p < pixels; p++) {
          ElementwiseKernels.addBias(y, out + (long) p * oc, b, oc, act);
        }
      } else if (act == FusedActivation.RELU) {
        ElementwiseKernels.relu(y, y, out, out + (long) pixels * oc);
      }
    }
  }

  /**
   * Backward of {@link #forward} for {@code count} images, dz the output gradient with the
   * activation already applied: dwp (packed) = dz^T rows, written when {@code accumulate} is false
   * and added otherwise; db += / = column sums of dz (may be null); dx (may be null) = row2im(dz wp).
   */
  public static void backward(ConvGeometry g, int count, MemorySegment x, long xOff, MemorySegment wp,
      MemorySegment dz, long dzOff, MemorySegment ws, MemorySegment dwp, MemorySegment db, boolean accumulate,
      MemorySegment dx, long dxOff) {
    int step = imagesPerGemm(g);
    int oc = g.outChannels();
    int ocg = g.outChannelsPerGroup();
    int gc = groupColumns(g);
    int len = rowLength(g);
    for (int first = 0; first < count; first += step) {
      int images = Math.min(step, count - first);
      int pixels = images * g.outPixels();
      boolean acc = accumulate || first > 0;
      MemorySegment rows = ws;
      long rowOff = 0;
      if (rowsAreInput(g)) {
        rows = x;
        rowOff = xOff + first * g.inputSize();
      } else {
        for (int i = 0; i < images; i++) {
          im2row(g, x, xOff + (first + i) * g.inputSize(), ws, (long) i * g.outPixels() * len);
        }
      }
      long grad = dzOff + first * g.outputSize();
      for (int gi = 0; gi < g.groups(); gi++) {
        Gemm.sgemm(true, false, ocg, gc, pixels, 1f, dz, grad + (long) gi * ocg, oc,
            rows, rowOff + (long) gi * gc, len, acc ? 1f : 0f, dwp, (long) gi * ocg * gc, gc);
      }
      if (db != null) {
        if (!acc) {
          db.asSlice(0, (long) oc * Float.BYTES).fill((byte) 0);
        }
        for (int p = 0; p < pixels; p++) {
          ElementwiseKernels.addInto(db, 0, dz, grad + (long) p * oc, oc);
        }
      }
      if (dx == null) {
        continue;
      }
      // The rows are no longer needed, so they take the row gradients; a pointwise layer's are dx itself.
      MemorySegment drows = rowsAreInput(g) ? dx : ws;
      long drowOff = rowsAreInput(g) ? dxOff + first * g.inputSize() : 0;
      for (int gi = 0; gi < g.groups(); gi++) {
        Gemm.sgemm(false, false, pixels, gc, ocg, 1f, dz, grad + (long) gi * ocg, oc,
            wp, (long) gi * ocg * gc, gc, 0f, drows, drowOff + (long) gi * gc, len);
      }
      if (!rowsAreInput(g)) {
        for (int i = 0; i < images; i++) {
          row2im(g, ws, (long) i * g.outPixels() * len, dx, dxOff + (first + i) * g.inputSize());
        }
      }
    }
  }
}
