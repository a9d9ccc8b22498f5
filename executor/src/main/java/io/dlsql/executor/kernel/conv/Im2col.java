package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import java.lang.foreign.MemorySegment;

/**
 * Lowering of one image to and from its im2col matrix, the layout that turns a convolution into a
 * GEMM. The matrix has one row per (input channel, kernel row, kernel column) and one column per
 * output pixel: {@code col[(c*KH + kh)*KW + kw][oh*OW + ow] = x[c][oh*SH - PT + kh*DH][ow*SW - PL +
 * kw*DW]}, zero where that falls in the padding. Rows of group {@code g} are contiguous. All
 * offsets are in floats.
 */
public final class Im2col {
  private Im2col() {}

  /** x: (C, H, W) at {@code xOff}; col: (C*KH*KW, OH*OW) at {@code colOff}. */
  public static void im2col(ConvGeometry g, MemorySegment x, long xOff, MemorySegment col, long colOff) {
    final int h = g.inHeight();
    final int w = g.inWidth();
    final int oh = g.outHeight();
    final int ow = g.outWidth();
    final int sw = g.strideW();
    long row = colOff;
    for (int c = 0; c < g.inChannels(); c++) {
      long plane = xOff + (long) c * h * w;
      for (int kh = 0; kh < g.kernelH(); kh++) {
        for (int kw = 0; kw < g.kernelW(); kw++) {
          int colShift = kw * g.dilationW() - g.padLeft();
          // Output columns whose input column lies inside the image: [lo, hi).
          int lo = Math.clamp(Math.ceilDiv(-colShift, sw), 0, ow);
          int hi = Math.clamp(Math.floorDiv(w - 1 - colShift, sw) + 1, lo, ow);
          for (int y = 0; y < oh; y++) {
            long dst = row + (long) y * ow;
            int ih = y * g.strideH() - g.padTop() + kh * g.dilationH();
            if (ih < 0 || ih >= h || lo == hi) {
              col.asSlice(dst * Float.BYTES, (long) ow * Float.BYTES).fill((byte) 0);
              continue;
            }
            long src = plane + (long) ih * w + colShift;
            for (int x0 = 0; x0 < lo; x0++) {
              col.setAtIndex(F32, dst + x0, 0f);
            }
            if (sw == 1) {
              MemorySegment.copy(
                  x, (src + lo) * Float.BYTES, col, (dst + lo) * Float.BYTES, (long) (hi - lo) * Float.BYTES);
            } else {
              for (int x0 = lo; x0 < hi; x0++) {
                col.setAtIndex(F32, dst + x0, x.getAtIndex(F32, src + (long) x0 * sw));
              }
            }
            for (int x0 = hi; x0 < ow; x0++) {
              col.setAtIndex(F32, dst + x0, 0f);
            }
          }
          row += (long) oh * ow;
        }
      }
    }
  }

  /**
   * The adjoint of {@link #im2col}: {@code dx = sum of col entries at the positions they were
   * read from}. dx: (C, H, W) at {@code dxOff} is overwritten.
   */
  public static void col2im(ConvGeometry g, MemorySegment col, long colOff, MemorySegment dx, long dxOff) {
    final int h = g.inHeight();
    final int w = g.inWidth();
    final int oh = g.outHeight();
    final int ow = g.outWidth();
    final int sw = g.strideW();
    dx.asSlice(dxOff * Float.BYTES, g.inputSize() * Float.BYTES).fill((byte) 0);
    long row = colOff;
    for (int c = 0; c < g.inChannels(); c++) {
      long plane = dxOff + (long) c * h * w;
      for (int kh = 0; kh < g.kernelH(); kh++) {
        for (int kw = 0; kw < g.kernelW(); kw++) {
          int colShift = kw * g.dilationW() - g.padLeft();
          int lo = Math.clamp(Math.ceilDiv(-colShift, sw), 0, ow);
          int hi = Math.clamp(Math.floorDiv(w - 1 - colShift, sw) + 1, lo, ow);
          for (int y = 0; y < oh; y++) {
            int ih = y * g.strideH() - g.padTop() + kh * g.dilationH();
            if (ih < 0 || ih >= h) {
              continue;
            }
            long src = row + (long) y * ow;
            long dst = plane + (long) ih * w + colShift;
            for (int x0 = lo; x0 < hi; x0++) {
              long d = dst + (long) x0 * sw;
              dx.setAtIndex(F32, d, dx.getAtIndex(F32, d) + col.getAtIndex(F32, src + x0));
            }
          }
          row += (long) oh * ow;
        }
      }
    }
  }
}
