package io.dlsql.executor.kernel.layout;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Reorders image batches between the three layouts kernels read: NCHW (channel planes), NHWC
 * (channels of a pixel adjacent) and NCHWc (planes of {@link #CHANNEL_BLOCK} interleaved
 * channels: {@code (N, ceil(C/16), H, W, 16)}, the channels of the last block past C are zero).
 * These are the costed reorders a plan inserts between kernels that want different layouts; each
 * is a transpose of (C, H*W) per image, done in tiles so that both sides are read and written in
 * cache-line runs, images split across threads.
 */
public final class LayoutConversion {
  private LayoutConversion() {}

  /** Channels per block of NCHWc: one 512-bit vector of floats ({@link Layout#CHANNEL_BLOCK}). */
  public static final int CHANNEL_BLOCK = Layout.CHANNEL_BLOCK;
  /** Pixels per tile of the transposes: with {@link #CHANNEL_BLOCK} channels a tile is 4 KB. */
  static final int PIXEL_TILE = 64;
  private static final int MIN_IMAGES_PER_CHUNK = 1;

  /** Channel blocks of NCHWc for {@code channels} channels. */
  public static int blocks(int channels) {
    return Math.ceilDiv(channels, CHANNEL_BLOCK);
  }

  /** Floats of one NCHWc image of (C, H, W): the channels rounded up to whole blocks. */
  public static long nchwcImageSize(int channels, int height, int width) {
    return (long) blocks(channels) * CHANNEL_BLOCK * height * width;
  }

  /** Floats moved by one conversion of {@code n} images (read once, written once). */
  public static long trafficFloats(int n, int channels, int height, int width) {
    return (long) n * (channels * (long) height * width + nchwcImageSize(channels, height, width));
  }

  /**
   * Writes {@code src} into {@code dst}, which has the same shape and any layout (the same
   * layout copies). Both must be image batches (N, C, H, W) unless both are NCHW.
   */
  public static void convert(Tensor src, Tensor dst) {
    if (!Arrays.equals(src.shape(), dst.shape())) {
      throw new IllegalArgumentException("cannot convert " + src + " into " + dst);
    }
    if (src.layout() == dst.layout()) {
      dst.copyFrom(src);
      return;
    }
    int n = src.dim(0);
    int c = src.dim(1);
    int h = src.dim(2);
    int w = src.dim(3);
    MemorySegment x = src.segment();
    MemorySegment y = dst.segment();
    switch (src.layout()) {
      case NCHW -> {
        if (dst.layout() == Layout.NHWC) {
          nchwToNhwc(x, y, n, c, h, w);
        } else {
          nchwToNchwc(x, y, n, c, h, w);
        }
      }
      case NHWC -> {
        if (dst.layout() == Layout.NCHW) {
          nhwcToNchw(x, y, n, c, h, w);
        } else {
          nhwcToNchwc(x, y, n, c, h, w);
        }
      }
      case NCHWC -> {
        if (dst.layout() == Layout.NCHW) {
          nchwcToNchw(x, y, n, c, h, w);
        } else {
          nchwcToNhwc(x, y, n, c, h, w);
        }
      }
    }
  }

  // x: (N, H, W, C) -> y: (N, ceil(C/16), H, W, 16), channels past C zero: runs of 16 channels copied
  public static void nhwcToNchwc(MemorySegment x, MemorySegment y, int n, int c, int h, int w) {
    int hw = h * w;
    long image = nchwcImageSize(c, h, w);
    forImages(n, (img) -> {
      for (int b = 0; b < blocks(c); b++) {
        int lanes = Math.min(CHANNEL_BLOCK, c - b * CHANNEL_BLOCK);
        long dst = img * image + (long) b * hw * CHANNEL_BLOCK;
        if (lanes < CHANNEL_BLOCK) {
          y.asSlice(dst * Float.BYTES, (long) hw * CHANNEL_BLOCK * Float.BYTES).fill((byte) 0);
        }
        long src = (long) img * c * hw + (long) b * CHANNEL_BLOCK;
        for (int p = 0; p < hw; p++) {
          MemorySegment.copy(x, (src + (long) p * c) * Float.BYTES, y,
              (dst + (long) p * CHANNEL_BLOCK) * Float.BYTES, (long) lanes * Float.BYTES);
        }
      }
    });
  }

  // x: (N, ceil(C/16), H, W, 16) -> y: (N, H, W, C)
  public static void nchwcToNhwc(MemorySegment x, MemorySegment y, int n, int c, int h, int w) {
    int hw = h * w;
    long image = nchwcImageSize(c, h, w);
    forImages(n, (img) -> {
      for (int b = 0; b < blocks(c); b++) {
        int lanes = Math.min(CHANNEL_BLOCK, c - b * CHANNEL_BLOCK);
        long src = img * image + (long) b * hw * CHANNEL_BLOCK;
        long dst = (long) img * c * hw + (long) b * CHANNEL_BLOCK;
        for (int p = 0; p < hw; p++) {
          MemorySegment.copy(x, (src + (long) p * CHANNEL_BLOCK) * Float.BYTES, y,
              (dst + (long) p * c) * Float.BYTES, (long) lanes * Float.BYTES);
        }
      }
    });
  }

  // x: (N, C, H, W) -> y: (N, H, W, C)
  public static void nchwToNhwc(MemorySegment x, MemorySegment y, int n, int c, int h, int w) {
    int hw = h * w;
    forImages(n, (img) -> transpose(x, (long) img * c * hw, hw, y, (long) img * c * hw, c, c, hw));
  }

  // x: (N, H, W, C) -> y: (N, C, H, W)
  public static void nhwcToNchw(MemorySegment x, MemorySegment y, int n, int c, int h, int w) {
    int hw = h * w;
    forImages(n, (img) -> transpose(x, (long) img * c * hw, c, y, (long) img * c * hw, hw, hw, c));
  }

  // x: (N, C, H, W) -> y: (N, ceil(C/16), H, W, 16), channels past C zero
  public static void nchwToNchwc(MemorySegment x, MemorySegment y, int n, int c, int h, int w) {
    int hw = h * w;
    long outImage = nchwcImageSize(c, h, w);
    forImages(n, (img) -> {
      for (int b = 0; b < blocks(c); b++) {
        int lanes = Math.min(CHANNEL_BLOCK, c - b * CHANNEL_BLOCK);
        long dst = img * outImage + (long) b * hw * CHANNEL_BLOCK;
        long src = ((long) img * c + (long) b * CHANNEL_BLOCK) * hw;
        if (lanes < CHANNEL_BLOCK) {
          y.asSlice(dst * Float.BYTES, (long) hw * CHANNEL_BLOCK * Float.BYTES).fill((byte) 0);
        }
        transpose(x, src, hw, y, dst, CHANNEL_BLOCK, lanes, hw);
      }
    });
  }

  // x: (N, ceil(C/16), H, W, 16) -> y: (N, C, H, W)
  public static void nchwcToNchw(MemorySegment x, MemorySegment y, int n, int c, int h, int w) {
    int hw = h * w;
    long inImage = nchwcImageSize(c, h, w);
    forImages(n, (img) -> {
      for (int b = 0; b < blocks(c); b++) {
        int lanes = Math.min(CHANNEL_BLOCK, c - b * CHANNEL_BLOCK);
        long src = img * inImage + (long) b * hw * CHANNEL_BLOCK;
        long dst = ((long) img * c + (long) b * CHANNEL_BLOCK) * hw;
        transpose(x, src, CHANNEL_BLOCK, y, dst, hw, hw, lanes);
      }
    });
  }

  /**
   * dst[j][i] = src[i][j] for i in [0, rows), j in [0, cols): src rows {@code ldSrc} apart, dst
   * rows {@code ldDst} apart, in tiles of {@link #PIXEL_TILE}.
   */
  private static void transpose(
      MemorySegment src, long srcOff, int ldSrc, MemorySegment dst, long dstOff, int ldDst, int rows, int cols) {
    for (int j0 = 0; j0 < cols; j0 += PIXEL_TILE) {
      int j1 = Math.min(cols, j0 + PIXEL_TILE);
      for (int i0 = 0; i0 < rows; i0 += PIXEL_TILE) {
        int i1 = Math.min(rows, i0 + PIXEL_TILE);
        for (int j = j0; j < j1; j++) {
          long d = dstOff + (long) j * ldDst;
          for (int i = i0; i < i1; i++) {
            dst.setAtIndex(F32, d + i, src.getAtIndex(F32, srcOff + (long) i * ldSrc + j));
          }
        }
      }
    }
  }

  @FunctionalInterface
  private interface ImageBody {
    void run(int img);
  }

  private static void forImages(int n, ImageBody body) {
    Parallel.get().forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
      for (int img = from; img < to; img++) {
        body.run(img);
      }
    });
  }
}
