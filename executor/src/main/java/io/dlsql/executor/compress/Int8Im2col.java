package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.conv.ConvGeometry;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * im2col on an int8 image: {@code col[(c*KH + kh)*KW + kw][oh*OW + ow] = x[c][oh*SH - PT +
 * kh*DH][ow*SW - PL + kw*DW]}, 0 in the padding (exact, since the zero point is 0). The same
 * layout as the fp32 {@link io.dlsql.executor.kernel.conv.Im2col}, one byte per element. Offsets
 * are in bytes (= elements).
 */
final class Int8Im2col {
  private Int8Im2col() {}

  private static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

  /** x: (C, H, W) int8 at {@code xOff}; col: (C*KH*KW, OH*OW) int8 at {@code colOff}, rows packed. */
  static void im2col(ConvGeometry g, MemorySegment x, long xOff, MemorySegment col, long colOff) {
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
          int shift = kw * g.dilationW() - g.padLeft();
          // Output columns whose input column is inside the image: [lo, hi).
          int lo = Math.clamp(Math.ceilDiv(-shift, sw), 0, ow);
          int hi = Math.clamp(Math.floorDiv(w - 1 - shift, sw) + 1, lo, ow);
          for (int y = 0; y < oh; y++) {
            long dst = row + (long) y * ow;
            int ih = y * g.strideH() - g.padTop() + kh * g.dilationH();
            if (ih < 0 || ih >= h || lo == hi) {
              col.asSlice(dst, ow).fill((byte) 0);
              continue;
            }
            long src = plane + (long) ih * w + shift;
            if (lo > 0) {
              col.asSlice(dst, lo).fill((byte) 0);
            }
            if (sw == 1) {
              MemorySegment.copy(x, src + lo, col, dst + lo, hi - lo);
            } else {
              for (int x0 = lo; x0 < hi; x0++) {
                col.set(I8, dst + x0, x.get(I8, src + (long) x0 * sw));
              }
            }
            if (hi < ow) {
              col.asSlice(dst + hi, ow - hi).fill((byte) 0);
            }
          }
          row += g.outPixels();
        }
      }
    }
  }
}
