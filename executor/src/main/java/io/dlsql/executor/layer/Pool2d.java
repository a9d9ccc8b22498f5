package io.dlsql.executor.layer;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.blocked.BlockedPool;
import io.dlsql.executor.kernel.blocked.ChannelTiling;
import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import io.dlsql.executor.tensor.IndexBuffer;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Max and average pooling over (N, C, H, W), planes in parallel. Max pooling remembers the
 * position of each window's maximum (the first one on ties, NaN wins) for backward; average
 * pooling divides by the full window, counting padding as zeros (PyTorch's default).
 */
public final class Pool2d extends Layer {
  private static final int MIN_PLANES_PER_CHUNK = 4;

  private final boolean max;
  private final int channels;
  private final int inH;
  private final int inW;
  private final int kernelH;
  private final int kernelW;
  private final int strideH;
  private final int strideW;
  private final int padH;
  private final int padW;
  private final int outH;
  private final int outW;
  /** Max pooling: per output element, the input position (ih * W + iw) of its maximum. */
  private IndexBuffer argmax;

  public Pool2d(String name, int[] inShape, int[] outShape, boolean max, int kernelH, int kernelW,
      int strideH, int strideW, int padH, int padW) {
    super(name, outShape);
    this.max = max;
    this.channels = inShape[0];
    this.inH = inShape[1];
    this.inW = inShape[2];
    this.kernelH = kernelH;
    this.kernelW = kernelW;
    this.strideH = strideH;
    this.strideW = strideW;
    this.padH = padH;
    this.padW = padW;
    this.outH = outShape[1];
    this.outW = outShape[2];
  }

  public boolean isMax() {
    return max;
  }

  private BlockedPool.Window window() {
    return new BlockedPool.Window(kernelH, kernelW, strideH, strideW, padH, padW);
  }

  // x: (N, C, H, W) -> y: (N, C, OH, OW)
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    MemorySegment x = inputs[0].segment();
    MemorySegment y = output.segment();
    int planes = inputs[0].dim(0) * channels;
    if (max && (argmax == null || argmax.length() < output.numel())) {
      if (argmax != null) {
        argmax.close();
      }
      argmax = new IndexBuffer(output.numel());
    }
    if (inputs[0].layout() != Layout.NCHW) {
      BlockedPool.forward(ChannelTiling.of(inputs[0]), ChannelTiling.of(output), window(), max, x, y, argmax);
      return;
    }
    float scale = 1f / (kernelH * kernelW);
    IndexBuffer positions = argmax;
    if (max && isPairWindow() && KernelSwitch.vector()) {
      Parallel.get().forRange(planes, MIN_PLANES_PER_CHUNK, (chunk, from, to) ->
          maxPairPlanes(x, y, positions, from, to));
      return;
    }
    Parallel.get().forRange(planes, MIN_PLANES_PER_CHUNK, (chunk, from, to) -> {
      for (int p = from; p < to; p++) {
        long in = (long) p * inH * inW;
        long out = (long) p * outH * outW;
        for (int oy = 0; oy < outH; oy++) {
          int y0 = oy * strideH - padH;
          int yLo = Math.max(y0, 0);
          int yHi = Math.min(y0 + kernelH, inH);
          for (int ox = 0; ox < outW; ox++) {
            int x0 = ox * strideW - padW;
            int xLo = Math.max(x0, 0);
            int xHi = Math.min(x0 + kernelW, inW);
            long o = out + (long) oy * outW + ox;
            if (max) {
              float best = Float.NEGATIVE_INFINITY;
              int bestAt = yLo * inW + xLo;
              for (int iy = yLo; iy < yHi; iy++) {
                for (int ix = xLo; ix < xHi; ix++) {
                  float v = x.getAtIndex(F32, in + (long) iy * inW + ix);
                  if (v > best || Float.isNaN(v) && !Float.isNaN(best)) {
                    best = v;
                    bestAt = iy * inW + ix;
                  }
                }
              }
              y.setAtIndex(F32, o, best);
              argmax.set(o, bestAt);
            } else {
              float sum = 0f;
              for (int iy = yLo; iy < yHi; iy++) {
                for (int ix = xLo; ix < xHi; ix++) {
                  sum += x.getAtIndex(F32, in + (long) iy * inW + ix);
                }
              }
              y.setAtIndex(F32, o, sum * scale);
            }
          }
        }
      }
    });
  }

  /** Whether windows are 2x2 with stride 2 and no padding: the convnet's pooling, which has its own loop. */
  private boolean isPairWindow() {
    return kernelH == 2 && kernelW == 2 && strideH == 2 && strideW == 2 && padH == 0 && padW == 0;
  }

  /**
   * 2x2 stride-2 max pooling of planes [from, to): four loads per output, no bounds arithmetic.
   * Ties keep the first position in row order and NaN wins, as in the general loop.
   */
  private void maxPairPlanes(MemorySegment x, MemorySegment y, IndexBuffer positions, int from, int to) {
    for (int p = from; p < to; p++) {
      long in = (long) p * inH * inW;
      long out = (long) p * outH * outW;
      for (int oy = 0; oy < outH; oy++) {
        long row0 = in + (long) (2 * oy) * inW;
        long row1 = row0 + inW;
        long o = out + (long) oy * outW;
        int at0 = 2 * oy * inW;
        for (int ox = 0; ox < outW; ox++) {
          int ix = 2 * ox;
          // Branch-free: with random data a branch per comparison mispredicts half the time.
          float a = x.getAtIndex(F32, row0 + ix);
          float b = x.getAtIndex(F32, row0 + ix + 1);
          float c = x.getAtIndex(F32, row1 + ix);
          float d = x.getAtIndex(F32, row1 + ix + 1);
          boolean takeB = b > a | (b != b & a == a);
          float top = takeB ? b : a;
          int topAt = takeB ? 1 : 0;
          boolean takeD = d > c | (d != d & c == c);
          float bottom = takeD ? d : c;
          int bottomAt = takeD ? inW + 1 : inW;
          boolean takeBottom = bottom > top | (bottom != bottom & top == top);
          float best = takeBottom ? bottom : top;
          int bestAt = at0 + ix + (takeBottom ? bottomAt : topAt);
          y.setAtIndex(F32, o + ox, best);
          positions.set(o + ox, bestAt);
        }
      }
    }
  }

  // max: dx[argmax(window)] += dy; avg: dx[window] += dy / (KH * KW)
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    if (gradInputs[0] == null) {
      return;
    }
    MemorySegment dy = gradOutput.segment();
    MemorySegment dx = gradInputs[0].segment();
    if (inputs[0].layout() != Layout.NCHW) {
      BlockedPool.backward(ChannelTiling.of(inputs[0]), ChannelTiling.of(output), window(), max, dy, dx, argmax);
      return;
    }
    int planes = inputs[0].dim(0) * channels;
    float scale = 1f / (kernelH * kernelW);
    Parallel.get().forRange(planes, MIN_PLANES_PER_CHUNK, (chunk, from, to) -> {
      for (int p = from; p < to; p++) {
        long in = (long) p * inH * inW;
        long out = (long) p * outH * outW;
        dx.asSlice(in * Float.BYTES, (long) inH * inW * Float.BYTES).fill((byte) 0);
        for (int oy = 0; oy < outH; oy++) {
          int y0 = oy * strideH - padH;
          for (int ox = 0; ox < outW; ox++) {
            long o = out + (long) oy * outW + ox;
            float g = dy.getAtIndex(F32, o);
            if (max) {
              long at = in + argmax.get(o);
              dx.setAtIndex(F32, at, dx.getAtIndex(F32, at) + g);
            } else {
              int x0 = ox * strideW - padW;
              float share = g * scale;
              for (int iy = Math.max(y0, 0); iy < Math.min(y0 + kernelH, inH); iy++) {
                for (int ix = Math.max(x0, 0); ix < Math.min(x0 + kernelW, inW); ix++) {
                  long at = in + (long) iy * inW + ix;
                  dx.setAtIndex(F32, at, dx.getAtIndex(F32, at) + share);
                }
              }
            }
          }
        }
      }
    });
  }

  @Override
  public void close() {
    super.close();
    if (argmax != null) {
      argmax.close();
    }
  }
}
