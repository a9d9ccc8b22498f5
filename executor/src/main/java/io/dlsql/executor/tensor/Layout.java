package io.dlsql.executor.tensor;

import java.util.Arrays;

/**
 * How a tensor's elements are ordered in memory. A tensor's shape is always logical: (N, C, H, W)
 * for images whatever the layout; the layout fixes the physical strides. {@link #NCHW} is plain
 * row-major order over the shape as given (and the only order for tensors that are not 4-D);
 * {@link #NHWC} puts the channels of a pixel next to each other; {@link #NCHWC} stores blocks of
 * {@link #CHANNEL_BLOCK} channels interleaved, {@code (N, ceil(C/16), H, W, 16)}, the channels of
 * the last block past C held at zero by every kernel.
 */
public enum Layout {
  /** Row-major over the shape in the order given: the last dimension varies fastest. */
  NCHW,
  /** Channels last: {@code (N, H, W, C)} in memory. */
  NHWC,
  /** Blocked channels: {@code (N, ceil(C/16), H, W, 16)} in memory, padding channels zero. */
  NCHWC;

  /** Channels per block of {@link #NCHWC}: one 512-bit vector of floats. */
  public static final int CHANNEL_BLOCK = 16;

  /** Channel blocks of NCHWc for {@code channels} channels. */
  public static int blocks(int channels) {
    return Math.ceilDiv(channels, CHANNEL_BLOCK);
  }

  /** Whether tensors of this layout must be 4-D images (every layout but NCHW). */
  public boolean imagesOnly() {
    return this != NCHW;
  }

  /** Floats one image of (C, H, W) occupies: C*H*W, for NCHWc with the channels rounded up to whole blocks. */
  public long imageSize(int channels, int height, int width) {
    long c = this == NCHWC ? (long) blocks(channels) * CHANNEL_BLOCK : channels;
    return c * height * width;
  }

  /** Floats a tensor of {@code shape} occupies in this layout. */
  public long storageSize(int[] shape) {
    checkShape(shape);
    if (this == NCHW) {
      long n = 1;
      for (int d : shape) {
        n *= d;
      }
      return n;
    }
    return shape[0] * imageSize(shape[1], shape[2], shape[3]);
  }

  /** Throws unless a tensor of {@code shape} can take this layout. */
  public void checkShape(int[] shape) {
    if (imagesOnly() && shape.length != 4) {
      throw new IllegalArgumentException(
          this + " holds 4-D image batches (N, C, H, W), not shape " + Arrays.toString(shape));
    }
  }

  /** Offset in floats of element (c, y, x) within one image of (C, H, W). */
  public long offset(int channels, int height, int width, int c, int y, int x) {
    return switch (this) {
      case NCHW -> ((long) c * height + y) * width + x;
      case NHWC -> ((long) y * width + x) * channels + c;
      case NCHWC -> (((long) (c / CHANNEL_BLOCK) * height + y) * width + x) * CHANNEL_BLOCK
          + c % CHANNEL_BLOCK;
    };
  }
}
