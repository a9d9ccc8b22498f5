package io.dlsql.executor.train;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Training-time augmentation of a loaded batch, in place: a random crop of the image padded with
 * {@code padding} zeros on each side (the usual CIFAR recipe) and a horizontal flip with
 * probability 1/2. The choices for a sample come from {@code Rng.derive(seed, epoch, position)},
 * so they are the same in a resumed run.
 */
final class Augmentation {
  private static final long STREAM = 0x617567L;

  private final int padding;
  private final boolean flip;
  private final int channels;
  private final int height;
  private final int width;
  /** One sample, the loader thread's scratch copy. */
  private final float[] sample;

  Augmentation(int[] shape, int padding, boolean flip) {
    this.padding = padding;
    this.flip = flip;
    this.channels = shape[0];
    this.height = shape[1];
    this.width = shape[2];
    this.sample = new float[channels * height * width];
  }

  /** Augments the first n samples of x; {@code firstPosition} is the position of sample 0 in the epoch. */
  void apply(Tensor x, int n, long seed, int epoch, long firstPosition) {
    MemorySegment data = x.segment();
    int size = sample.length;
    for (int k = 0; k < n; k++) {
      Rng rng = Rng.derive(seed, STREAM, epoch, firstPosition + k);
      int shiftY = padding == 0 ? 0 : rng.nextInt(2 * padding + 1) - padding;
      int shiftX = padding == 0 ? 0 : rng.nextInt(2 * padding + 1) - padding;
      boolean mirror = flip && rng.nextFloat() < 0.5f;
      if (shiftY == 0 && shiftX == 0 && !mirror) {
        continue;
      }
      long base = (long) k * size;
      MemorySegment.copy(data, F32, base * Float.BYTES, sample, 0, size);
      for (int c = 0; c < channels; c++) {
        for (int y = 0; y < height; y++) {
          int sy = y + shiftY;
          for (int xo = 0; xo < width; xo++) {
            int sx = (mirror ? width - 1 - xo : xo) + shiftX;
            float v = sy < 0 || sy >= height || sx < 0 || sx >= width
                ? 0f
                : sample[(c * height + sy) * width + sx];
            data.setAtIndex(F32, base + (long) (c * height + y) * width + xo, v);
          }
        }
      }
    }
  }
}
