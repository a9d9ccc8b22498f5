package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lowering of one image to and from its im2col matrix, the layout that turns a convolution into a
 * GEMM. The matrix has one row per (input channel, kernel row, kernel column) and one column per
 * output pixel: {@code col[(c*KH + kh)*KW + kw][oh*OW + ow] = x[c][oh*SH - PT + kh*DH][ow*SW - PL +
 * kw*DW]}, zero where that falls in the padding. Rows of group {@code g} are contiguous. Rows are
 * {@code ldCol} floats apart, so several images can sit side by side in one matrix (image {@code
 * b} at column offset {@code b * OH*OW}) and feed one GEMM. All offsets are in floats.
 */
public final class Im2col {
  private Im2col() {}

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int V = SPECIES.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** x: (C, H, W) at {@code xOff}; col: (C*KH*KW, OH*OW) at {@code colOff}, rows packed. */
  public static void im2col(ConvGeometry g, MemorySegment x, long xOff, MemorySegment col, long colOff) {
    im2col(g, x, xOff, col, colOff, g.outPixels());
  }

  /** x: (C, H, W) at {@code xOff}; col: (C*KH*KW) rows of OH*OW at {@code colOff}, {@code ldCol} apart. */
  public static void im2col(
      ConvGeometry g, MemorySegment x, long xOff, MemorySegment col, long colOff, long ldCol) {
    final int h = g.inHeight();
    final int w = g.inWidth();
    final int oh = g.outHeight();
    final int ow = g.outWidth();
    final int sw = g.strideW();
    final boolean vector = KernelSwitch.vector();
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
              zero(col, dst, ow);
              continue;
            }
            long src = plane + (long) ih * w + colShift;
            zero(col, dst, lo);
            if (sw == 1) {
              copy(x, src + lo, col, dst + lo, hi - lo, vector);
            } else {
              for (int x0 = lo; x0 < hi; x0++) {
                col.setAtIndex(F32, dst + x0, x.getAtIndex(F32, src + (long) x0 * sw));
              }
            }
            zero(col, dst + hi, ow - hi);
          }
          row += ldCol;
        }
      }
    }
  }

  /** The adjoint of {@link #im2col}: {@code dx = sum of col entries at the positions they were read from}. */
  public static void col2im(ConvGeometry g, MemorySegment col, long colOff, MemorySegment dx, long dxOff) {
    col2im(g, col, colOff, g.outPixels(), dx, dxOff);
  }

  /**
   * The adjoint of {@link #im2col} with rows {@code ldCol} apart: {@code dx = sum of col entries
   * at the positions they were read from}. dx: (C, H, W) at {@code dxOff} is overwritten.
   */
  public static void col2im(
      ConvGeometry g, MemorySegment col, long colOff, long ldCol, MemorySegment dx, long dxOff) {
    final int h = g.inHeight();
    final int w = g.inWidth();
    final int oh = g.outHeight();
    final int ow = g.outWidth();
    final int sw = g.strideW();
    final boolean vector = KernelSwitch.vector();
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
            if (sw == 1) {
              accumulate(col, src + lo, dx, dst + lo, hi - lo, vector);
            } else {
              for (int x0 = lo; x0 < hi; x0++) {
                long d = dst + (long) x0 * sw;
                dx.setAtIndex(F32, d, dx.getAtIndex(F32, d) + col.getAtIndex(F32, src + x0));
              }
            }
          }
          row += ldCol;
        }
      }
    }
  }

  private static void zero(MemorySegment s, long at, int count) {
    for (int i = 0; i < count; i++) {
      s.setAtIndex(F32, at + i, 0f);
    }
  }

  /** dst[0, len) = src[0, len): one masked vector per short row instead of a bulk-copy call. */
  private static void copy(MemorySegment src, long from, MemorySegment dst, long to, int len, boolean vector) {
    int i = 0;
    if (vector) {
      for (; i + V <= len; i += V) {
        FloatVector.fromMemorySegment(SPECIES, src, (from + i) * Float.BYTES, ORDER)
            .intoMemorySegment(dst, (to + i) * Float.BYTES, ORDER);
      }
      if (i < len) {
        VectorMask<Float> m = SPECIES.indexInRange(0, len - i);
        FloatVector.fromMemorySegment(SPECIES, src, (from + i) * Float.BYTES, ORDER, m)
            .intoMemorySegment(dst, (to + i) * Float.BYTES, ORDER, m);
      }
      return;
    }
    for (; i < len; i++) {
      dst.setAtIndex(F32, to + i, src.getAtIndex(F32, from + i));
    }
  }

  /** dst[0, len) += src[0, len). */
  private static void accumulate(MemorySegment src, long from, MemorySegment dst, long to, int len, boolean vector) {
    int i = 0;
    if (vector) {
      for (; i + V <= len; i += V) {
        FloatVector.fromMemorySegment(SPECIES, dst, (to + i) * Float.BYTES, ORDER)
            .add(FloatVector.fromMemorySegment(SPECIES, src, (from + i) * Float.BYTES, ORDER))
            .intoMemorySegment(dst, (to + i) * Float.BYTES, ORDER);
      }
      if (i < len) {
        VectorMask<Float> m = SPECIES.indexInRange(0, len - i);
        FloatVector.fromMemorySegment(SPECIES, dst, (to + i) * Float.BYTES, ORDER, m)
            .add(FloatVector.fromMemorySegment(SPECIES, src, (from + i) * Float.BYTES, ORDER, m))
            .intoMemorySegment(dst, (to + i) * Float.BYTES, ORDER, m);
      }
      return;
    }
    for (; i < len; i++) {
      dst.setAtIndex(F32, to + i, dst.getAtIndex(F32, to + i) + src.getAtIndex(F32, from + i));
    }
  }
}
