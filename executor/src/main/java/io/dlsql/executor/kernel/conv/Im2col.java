package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
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
    if (sw > 1 && vector) {
      stridedIm2col(g, x, xOff, col, colOff, ldCol);
      return;
    }
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
    if (sw > 1 && vector) {
      stridedCol2im(g, col, colOff, ldCol, dx, dxOff);
      return;
    }
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

  /**
   * {@link #im2col} for column strides above 1: the image is copied into a zero-bordered heap
   * buffer ({@link Strided}), so every row of the im2col matrix is a plain strided gather with no
   * bounds arithmetic, done with vector gathers.
   */
  private static void stridedIm2col(
      ConvGeometry g, MemorySegment x, long xOff, MemorySegment col, long colOff, long ldCol) {
    Strided s = Strided.claim(g);
    if (s.dirty) {
      Arrays.fill(s.buffer, 0f);
      s.dirty = false;
    }
    s.fill(g, x, xOff);
    int ow = g.outWidth();
    int sw = g.strideW();
    int[] map = s.map;
    long row = colOff;
    for (int c = 0; c < g.inChannels(); c++) {
      for (int kh = 0; kh < g.kernelH(); kh++) {
        for (int kw = 0; kw < g.kernelW(); kw++) {
          for (int y = 0; y < g.outHeight(); y++) {
            int src = s.at(c, y * g.strideH() + kh * g.dilationH(), kw * g.dilationW());
            long dst = (row + (long) y * ow) * Float.BYTES;
            int x0 = 0;
            for (; x0 + V <= ow; x0 += V) {
              FloatVector.fromArray(SPECIES, s.buffer, src + x0 * sw, map, 0)
                  .intoMemorySegment(col, dst + (long) x0 * Float.BYTES, ORDER);
            }
            if (x0 < ow) {
              VectorMask<Float> m = SPECIES.indexInRange(x0, ow);
              FloatVector.fromArray(SPECIES, s.buffer, src + x0 * sw, map, 0, m)
                  .intoMemorySegment(col, dst + (long) x0 * Float.BYTES, ORDER, m);
            }
          }
          row += ldCol;
        }
      }
    }
  }

  /**
   * {@link #col2im} for column strides above 1: gathers, adds and scatters within one row of the
   * zero-bordered buffer (the positions of one row are distinct, so no lane overwrites another),
   * then copies the interior out to dx.
   */
  private static void stridedCol2im(
      ConvGeometry g, MemorySegment col, long colOff, long ldCol, MemorySegment dx, long dxOff) {
    Strided s = Strided.claim(g);
    Arrays.fill(s.buffer, 0f);
    s.dirty = true;
    int ow = g.outWidth();
    int sw = g.strideW();
    int[] map = s.map;
    long row = colOff;
    for (int c = 0; c < g.inChannels(); c++) {
      for (int kh = 0; kh < g.kernelH(); kh++) {
        for (int kw = 0; kw < g.kernelW(); kw++) {
          for (int y = 0; y < g.outHeight(); y++) {
            int dst = s.at(c, y * g.strideH() + kh * g.dilationH(), kw * g.dilationW());
            long src = (row + (long) y * ow) * Float.BYTES;
            int x0 = 0;
            for (; x0 + V <= ow; x0 += V) {
              FloatVector.fromArray(SPECIES, s.buffer, dst + x0 * sw, map, 0)
                  .add(FloatVector.fromMemorySegment(SPECIES, col, src + (long) x0 * Float.BYTES, ORDER))
                  .intoArray(s.buffer, dst + x0 * sw, map, 0);
            }
            if (x0 < ow) {
              VectorMask<Float> m = SPECIES.indexInRange(x0, ow);
              FloatVector.fromArray(SPECIES, s.buffer, dst + x0 * sw, map, 0, m)
                  .add(FloatVector.fromMemorySegment(SPECIES, col, src + (long) x0 * Float.BYTES, ORDER, m))
                  .intoArray(s.buffer, dst + x0 * sw, map, 0, m);
            }
          }
          row += ldCol;
        }
      }
    }
    s.drain(g, dx, dxOff);
  }

  /**
   * One thread's zero-bordered copy of an image for the strided paths: channel c, padded row r,
   * padded column q at {@code c * planeFloats + r * rowStride + q}, the image at row {@code padTop}
   * and column {@code padLeft}. im2col keeps the borders zero (it writes only the interior) while
   * the geometry stays the same; col2im sums into the whole buffer, which im2col then clears.
   */
  private static final class Strided {
    private static final ThreadLocal<Strided> PER_THREAD = ThreadLocal.withInitial(Strided::new);

    float[] buffer = new float[0];
    int[] map = new int[0];
    int rowStride;
    int planeFloats;
    /** Whether {@link #stridedCol2im} left sums in the borders, which {@link #stridedIm2col} must clear. */
    boolean dirty;
    private ConvGeometry layoutFor;

    static Strided claim(ConvGeometry g) {
      Strided s = PER_THREAD.get();
      if (!g.equals(s.layoutFor)) {
        int reachW = (g.outWidth() - 1) * g.strideW() + (g.kernelW() - 1) * g.dilationW() + 1;
        int reachH = (g.outHeight() - 1) * g.strideH() + (g.kernelH() - 1) * g.dilationH() + 1;
        // Gathers past the last output column are masked off, so rows need no slack.
        s.rowStride = Math.max(g.padLeft() + g.inWidth(), reachW);
        s.planeFloats = Math.max(g.padTop() + g.inHeight(), reachH) * s.rowStride;
        int floats = g.inChannels() * s.planeFloats + V * g.strideW();
        if (s.buffer.length < floats) {
          s.buffer = new float[floats];
        } else {
          Arrays.fill(s.buffer, 0f);
        }
        s.map = new int[V];
        for (int l = 0; l < V; l++) {
          s.map[l] = l * g.strideW();
        }
        s.layoutFor = g;
        s.dirty = false;
      }
      return s;
    }

    /** Index of padded (row, column) of channel c. */
    int at(int c, int row, int column) {
      return c * planeFloats + row * rowStride + column;
    }

    /** Copies image x at xOff into the interior (the borders are zero already). */
    void fill(ConvGeometry g, MemorySegment x, long xOff) {
      int w = g.inWidth();
      for (int c = 0; c < g.inChannels(); c++) {
        for (int ih = 0; ih < g.inHeight(); ih++) {
          MemorySegment.copy(x, F32, (xOff + ((long) c * g.inHeight() + ih) * w) * Float.BYTES, buffer,
              at(c, ih + g.padTop(), g.padLeft()), w);
        }
      }
    }

    /** Copies the interior out to dx at dxOff. */
    void drain(ConvGeometry g, MemorySegment dx, long dxOff) {
      int w = g.inWidth();
      for (int c = 0; c < g.inChannels(); c++) {
        for (int ih = 0; ih < g.inHeight(); ih++) {
          MemorySegment.copy(buffer, at(c, ih + g.padTop(), g.padLeft()), dx, F32,
              (dxOff + ((long) c * g.inHeight() + ih) * w) * Float.BYTES, w);
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
