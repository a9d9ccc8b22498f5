package io.dlsql.executor.layer;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.blocked.BlockedPool;
import io.dlsql.executor.kernel.blocked.ChannelTiling;
import io.dlsql.executor.kernel.pool.MaxPool2x2;
import io.dlsql.executor.tensor.IndexBuffer;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Max and average pooling over (N, C, H, W), planes in parallel. Max pooling in training remembers
 * the position of each window's maximum (the first one on ties, NaN wins) for backward, 2x2
 * stride-2 windows in NCHW through {@link MaxPool2x2} in 2 bits per output; evaluation keeps
 * nothing; average
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
  /**
   * Max pooling in training: per output element, the input position (ih * W + iw) of its maximum,
   * or for 2x2 stride-2 windows in NCHW the {@link MaxPool2x2} record of 2 bits per output.
   */
  private IndexBuffer argmax;
  /** Whether the latest forward wrote a {@link MaxPool2x2} record, which backward then reads. */
  private boolean pairRecorded;

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
    boolean nchw = inputs[0].layout() == Layout.NCHW;
    pairRecorded = false;
    if (max && nchw && isPairWindow()) {
      // Evaluation keeps nothing for backward; training keeps 2 bits per output.
      MemorySegment record = training ? argmaxFor(MaxPool2x2.recordInts(planes, outH, outW)).segment() : null;
      pairRecorded = training;
      Parallel.get().forRange(planes, MIN_PLANES_PER_CHUNK, (chunk, from, to) ->
          MaxPool2x2.forward(x, y, record, inH, inW, from, to));
      return;
    }
    if (max && (!nchw || training)) {
      argmaxFor(output.numel());
    }
    if (!nchw) {
      BlockedPool.forward(ChannelTiling.of(inputs[0]), ChannelTiling.of(output), window(), max, x, y, argmax);
      return;
    }
    float scale = 1f / (kernelH * kernelW);
    IndexBuffer positions = training ? argmax : null;
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
              if (positions != null) {
                positions.set(o, bestAt);
              }
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

  /** The argmax buffer with room for at least {@code ints} ints (positions, or 2x2 records). */
  private IndexBuffer argmaxFor(long ints) {
    if (argmax == null || argmax.length() < ints) {
      if (argmax != null) {
        argmax.close();
      }
      argmax = new IndexBuffer(ints);
    }
    return argmax;
  }

  /** Whether windows are 2x2 with stride 2 and no padding: the convnet's pooling, which has its own kernel. */
  private boolean isPairWindow() {
    return kernelH == 2 && kernelW == 2 && strideH == 2 && strideW == 2 && padH == 0 && padW == 0;
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
    if (pairRecorded) {
      MemorySegment record = argmax.segment();
      Parallel.get().forRange(planes, MIN_PLANES_PER_CHUNK, (chunk, from, to) ->
          MaxPool2x2.backward(dy, dx, record, inH, inW, from, to));
      return;
    }
    if (max && argmax == null) {
      throw new IllegalStateException("max pooling backward before a training forward");
    }
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
