package io.dlsql.executor.kernel.blocked;

import static io.dlsql.executor.kernel.blocked.ChannelTiling.LANES;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.ORDER;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.SPECIES;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.get;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.load;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.mask;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.set;
import static io.dlsql.executor.kernel.blocked.ChannelTiling.store;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import io.dlsql.executor.tensor.IndexBuffer;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Max, average and global average pooling over NHWC and NCHWc batches: the 16 channels of a group
 * are one vector, so a window is a handful of vector loads. Semantics match the NCHW layer: max
 * takes NaN over numbers and, in backward, routes each gradient to the first position in row
 * order that holds the window's maximum (its position saved per element, laid out like the output);
 * average divides by the full window, padding counted as zeros. (image, group) pairs are split
 * across threads.
 */
public final class BlockedPool {
  private BlockedPool() {}

  private static final int MIN_PLANES_PER_CHUNK = 4;
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_512;

  /** A pooling window: kernel, stride and padding. */
  public record Window(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {}

  // x: (N, C, H, W) -> y: (N, C, OH, OW), max or mean over each window. Max pooling writes, per
  // output element, the input pixel (iy * W + ix) of the first maximum into argmax (laid out like y).
  public static void forward(ChannelTiling in, ChannelTiling out, Window win, boolean max, MemorySegment x,
      MemorySegment y, IndexBuffer argmax) {
    float scale = 1f / (win.kernelH() * win.kernelW());
    MemorySegment positions = max ? argmax.segment() : null;
    Parallel.get().forRange(in.images() * in.groups(), MIN_PLANES_PER_CHUNK, (chunk, from, to) -> {
      float[] acc = new float[LANES];
      int[] at = new int[LANES];
      for (int item = from; item < to; item++) {
        int n = item / in.groups();
        int g = item % in.groups();
        int lanes = in.lanes(g);
        VectorMask<Float> m = mask(lanes);
        for (int oy = 0; oy < out.height(); oy++) {
          int y0 = oy * win.strideH() - win.padH();
          int yLo = Math.max(y0, 0);
          int yHi = Math.min(y0 + win.kernelH(), in.height());
          for (int ox = 0; ox < out.width(); ox++) {
            int x0 = ox * win.strideW() - win.padW();
            int xLo = Math.max(x0, 0);
            int xHi = Math.min(x0 + win.kernelW(), in.width());
            long o = out.at(n, g, oy, ox);
            if (KernelSwitch.vector()) {
              FloatVector a = max ? FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY) : FloatVector.zero(SPECIES);
              IntVector best = IntVector.broadcast(INTS, yLo * in.width() + xLo);
              for (int iy = yLo; iy < yHi; iy++) {
                for (int ix = xLo; ix < xHi; ix++) {
                  FloatVector v = load(x, in.at(n, g, iy, ix), m);
                  if (max) {
                    // Strictly greater, or NaN over a number: the first maximum wins, as in NCHW.
                    VectorMask<Float> take = v.compare(VectorOperators.GT, a)
                        .or(v.test(VectorOperators.IS_NAN).andNot(a.test(VectorOperators.IS_NAN)));
                    a = a.blend(v, take);
                    best = best.blend(iy * in.width() + ix, take.cast(INTS));
                  } else {
                    a = a.add(v);
                  }
                }
              }
              store(max ? a : a.mul(scale), y, o, m);
              if (max) {
                best.intoMemorySegment(positions, o * Integer.BYTES, ORDER, m.cast(INTS));
              }
              continue;
            }
            java.util.Arrays.fill(acc, max ? Float.NEGATIVE_INFINITY : 0f);
            java.util.Arrays.fill(at, yLo * in.width() + xLo);
            for (int iy = yLo; iy < yHi; iy++) {
              for (int ix = xLo; ix < xHi; ix++) {
                long a = in.at(n, g, iy, ix);
                for (int l = 0; l < lanes; l++) {
                  float v = get(x, a + l);
                  if (!max) {
                    acc[l] += v;
                  } else if (v > acc[l] || Float.isNaN(v) && !Float.isNaN(acc[l])) {
                    acc[l] = v;
                    at[l] = iy * in.width() + ix;
                  }
                }
              }
            }
            for (int l = 0; l < lanes; l++) {
              set(y, o + l, max ? acc[l] : acc[l] * scale);
              if (max) {
                argmax.set(o + l, at[l]);
              }
            }
          }
        }
      }
    });
  }

  // max: dx[argmax] += dy; avg: dx[window] += dy / (KH * KW). dx overwritten.
  public static void backward(ChannelTiling in, ChannelTiling out, Window win, boolean max, MemorySegment dy,
      MemorySegment dx, IndexBuffer argmax) {
    float scale = 1f / (win.kernelH() * win.kernelW());
    Parallel.get().forRange(in.images() * in.groups(), MIN_PLANES_PER_CHUNK, (chunk, from, to) -> {
      for (int item = from; item < to; item++) {
        int n = item / in.groups();
        int g = item % in.groups();
        int lanes = in.lanes(g);
        VectorMask<Float> m = mask(lanes);
        for (int p = 0; p < in.pixels(); p++) {
          long at = in.at(n, g, p);
          for (int l = 0; l < lanes; l++) {
            set(dx, at + l, 0f);
          }
        }
        for (int oy = 0; oy < out.height(); oy++) {
          int y0 = oy * win.strideH() - win.padH();
          for (int ox = 0; ox < out.width(); ox++) {
            long o = out.at(n, g, oy, ox);
            if (max) {
              for (int l = 0; l < lanes; l++) {
                long a = in.at(n, g, argmax.get(o + l)) + l;
                set(dx, a, get(dx, a) + get(dy, o + l));
              }
              continue;
            }
            int x0 = ox * win.strideW() - win.padW();
            for (int iy = Math.max(y0, 0); iy < Math.min(y0 + win.kernelH(), in.height()); iy++) {
              for (int ix = Math.max(x0, 0); ix < Math.min(x0 + win.kernelW(), in.width()); ix++) {
                long a = in.at(n, g, iy, ix);
                if (KernelSwitch.vector()) {
                  store(load(dy, o, m).fma(FloatVector.broadcast(SPECIES, scale), load(dx, a, m)), dx, a, m);
                  continue;
                }
                for (int l = 0; l < lanes; l++) {
                  set(dx, a + l, get(dx, a + l) + get(dy, o + l) * scale);
                }
              }
            }
          }
        }
      }
    });
  }

  // x: (N, C, H, W) -> y: (N, C) (NCHW order), the mean of each channel
  public static void globalAverage(ChannelTiling in, MemorySegment x, MemorySegment y) {
    Parallel.get().forRange(in.images(), 1, (chunk, from, to) -> {
      float[] acc = new float[LANES];
      for (int n = from; n < to; n++) {
        for (int g = 0; g < in.groups(); g++) {
          int lanes = in.lanes(g);
          if (KernelSwitch.vector()) {
            VectorMask<Float> m = mask(lanes);
            FloatVector a = FloatVector.zero(SPECIES);
            for (int p = 0; p < in.pixels(); p++) {
              a = a.add(load(x, in.at(n, g, p), m));
            }
            a.intoArray(acc, 0);
          } else {
            java.util.Arrays.fill(acc, 0f);
            for (int p = 0; p < in.pixels(); p++) {
              long at = in.at(n, g, p);
              for (int l = 0; l < lanes; l++) {
                acc[l] += get(x, at + l);
              }
            }
          }
          for (int l = 0; l < lanes; l++) {
            set(y, (long) n * in.channels() + g * LANES + l, acc[l] / in.pixels());
          }
        }
      }
    });
  }

  // dx[n][c][h][w] = dy[n][c] / (H * W)
  public static void globalAverageBackward(ChannelTiling in, MemorySegment dy, MemorySegment dx) {
    Parallel.get().forRange(in.images(), 1, (chunk, from, to) -> {
      float[] share = new float[LANES];
      for (int n = from; n < to; n++) {
        for (int g = 0; g < in.groups(); g++) {
          int lanes = in.lanes(g);
          for (int l = 0; l < lanes; l++) {
            share[l] = get(dy, (long) n * in.channels() + g * LANES + l) / in.pixels();
          }
          if (KernelSwitch.vector()) {
            VectorMask<Float> m = mask(lanes);
            FloatVector v = FloatVector.fromArray(SPECIES, share, 0);
            for (int p = 0; p < in.pixels(); p++) {
              store(v, dx, in.at(n, g, p), m);
            }
            continue;
          }
          for (int p = 0; p < in.pixels(); p++) {
            long at = in.at(n, g, p);
            for (int l = 0; l < lanes; l++) {
              set(dx, at + l, share[l]);
            }
          }
        }
      }
    });
  }
}
