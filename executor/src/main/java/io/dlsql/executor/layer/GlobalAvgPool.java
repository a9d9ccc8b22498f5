package io.dlsql.executor.layer;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.blocked.BlockedPool;
import io.dlsql.executor.kernel.blocked.ChannelTiling;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/** Mean over height and width, (N, C, H, W) to (N, C). */
public final class GlobalAvgPool extends Layer {
  private static final int MIN_PLANES_PER_CHUNK = 16;
  private final int pixels;

  public GlobalAvgPool(String name, int[] inShape) {
    super(name, new int[] {inShape[0]});
    this.pixels = inShape[1] * inShape[2];
  }

  // x: (N, C, H, W) -> y: (N, C), y[n][c] = mean of x[n][c]
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    MemorySegment x = inputs[0].segment();
    MemorySegment y = output.segment();
    if (inputs[0].layout() != Layout.NCHW) {
      BlockedPool.globalAverage(ChannelTiling.of(inputs[0]), x, y);
      return;
    }
    Parallel.get().forRange((int) output.numel(), MIN_PLANES_PER_CHUNK, (chunk, from, to) -> {
      for (int p = from; p < to; p++) {
        long base = (long) p * pixels;
        float sum = 0f;
        for (int i = 0; i < pixels; i++) {
          sum += x.getAtIndex(F32, base + i);
        }
        y.setAtIndex(F32, p, sum / pixels);
      }
    });
  }

  // dx[n][c][h][w] = dy[n][c] / (H * W)
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    if (gradInputs[0] == null) {
      return;
    }
    MemorySegment dy = gradOutput.segment();
    MemorySegment dx = gradInputs[0].segment();
    if (inputs[0].layout() != Layout.NCHW) {
      BlockedPool.globalAverageBackward(ChannelTiling.of(inputs[0]), dy, dx);
      return;
    }
    Parallel.get().forRange((int) output.numel(), MIN_PLANES_PER_CHUNK, (chunk, from, to) -> {
      for (int p = from; p < to; p++) {
        float g = dy.getAtIndex(F32, p) / pixels;
        long base = (long) p * pixels;
        for (int i = 0; i < pixels; i++) {
          dx.setAtIndex(F32, base + i, g);
        }
      }
    });
  }
}
