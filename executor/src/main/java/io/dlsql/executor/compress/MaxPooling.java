package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Gemm;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max pooling of one image's planes as a fused epilogue step (int8 layers pool their integer sums
 * while they are in cache). Inference only, so no positions are kept; padded positions never
 * win, and NaN wins as in {@link io.dlsql.executor.layer.Pool2d}. Offsets are in floats.
 */
final class MaxPooling {
  private MaxPooling() {}

  private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_512;
  private static final int V = FLOATS.length();
  /**
   * Lanes {@code 0, 2, ..., 2V-2} and {@code 1, 3, ..., 2V-1} of two vectors side by side (indexes
   * below zero select from the second vector): the left and right halves of V window pairs.
   */
  private static final VectorShuffle<Float> EVEN = pairs(0);
  private static final VectorShuffle<Float> ODD = pairs(1);

  private static VectorShuffle<Float> pairs(int parity) {
    int[] index = new int[V];
    for (int i = 0; i < V; i++) {
      int lane = 2 * i + parity;
      index[i] = lane < V ? lane : lane - 2 * V;
    }
    return VectorShuffle.fromValues(FLOATS, index);
  }

  // x: (C, H, W) at xOff -> y: (C, OH, OW) at yOff; scratch: C * OH * W floats for the 2x2 path
  static void forward(MemorySegment x, long xOff, int channels, int h, int w, Int8Conv2d.MaxPool p,
      MemorySegment y, long yOff, MemorySegment scratch) {
    boolean pairs = p.kernelH() == 2 && p.kernelW() == 2 && p.strideH() == 2 && p.strideW() == 2
        && p.padH() == 0 && p.padW() == 0 && h % 2 == 0 && w % 2 == 0;
    if (pairs && Gemm.variant() == Gemm.Variant.VECTOR) {
      pairWindows(x, xOff, channels * h / 2, w, y, yOff, scratch);
      return;
    }
    int oh = p.outH();
    int ow = p.outW();
    for (int c = 0; c < channels; c++) {
      long in = xOff + (long) c * h * w;
      long out = yOff + (long) c * oh * ow;
      for (int oy = 0; oy < oh; oy++) {
        int y0 = oy * p.strideH() - p.padH();
        int yLo = Math.max(y0, 0);
        int yHi = Math.min(y0 + p.kernelH(), h);
        for (int ox = 0; ox < ow; ox++) {
          int x0 = ox * p.strideW() - p.padW();
          int xLo = Math.max(x0, 0);
          int xHi = Math.min(x0 + p.kernelW(), w);
          float best = Float.NEGATIVE_INFINITY;
          for (int iy = yLo; iy < yHi; iy++) {
            for (int ix = xLo; ix < xHi; ix++) {
              best = Math.max(best, x.getAtIndex(F32, in + (long) iy * w + ix));
            }
          }
          y.setAtIndex(F32, out + (long) oy * ow + ox, best);
        }
      }
    }
  }

  /**
   * 2x2 windows, stride 2, even H and W. With the planes back to back, the image is {@code rowPairs}
   * pairs of adjacent rows: first the larger of each pair of rows goes to scratch, contiguous;
   * there every window's two remaining values are adjacent and no pair straddles a row (W is
   * even), so one pass over scratch of two vectors in, one out, finishes all planes at once.
   */
  private static void pairWindows(MemorySegment x, long xOff, int rowPairs, int w, MemorySegment y, long yOff,
      MemorySegment scratch) {
    for (int r = 0; r < rowPairs; r++) {
      long top = xOff + 2L * r * w;
      long s = (long) r * w;
      int j = 0;
      for (; j + V <= w; j += V) {
        load(x, top + j).max(load(x, top + w + j)).intoMemorySegment(scratch, (s + j) * Float.BYTES, ORDER);
      }
      if (j < w) {
        VectorMask<Float> m = FLOATS.indexInRange(j, w);
        FloatVector.fromMemorySegment(FLOATS, x, (top + j) * Float.BYTES, ORDER, m)
            .max(FloatVector.fromMemorySegment(FLOATS, x, (top + w + j) * Float.BYTES, ORDER, m))
            .intoMemorySegment(scratch, (s + j) * Float.BYTES, ORDER, m);
      }
    }
    long n = (long) rowPairs * w;
    long i = 0;
    for (; i + 2L * V <= n; i += 2L * V) {
      FloatVector a = load(scratch, i);
      FloatVector b = load(scratch, i + V);
      a.rearrange(EVEN, b).max(a.rearrange(ODD, b)).intoMemorySegment(y, (yOff + i / 2) * Float.BYTES, ORDER);
    }
    for (; i < n; i += 2) {
      y.setAtIndex(F32, yOff + i / 2, Math.max(scratch.getAtIndex(F32, i), scratch.getAtIndex(F32, i + 1)));
    }
  }

  private static FloatVector load(MemorySegment s, long at) {
    return FloatVector.fromMemorySegment(FLOATS, s, at * Float.BYTES, ORDER);
  }
}
