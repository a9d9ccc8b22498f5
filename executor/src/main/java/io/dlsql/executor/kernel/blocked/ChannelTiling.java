package io.dlsql.executor.kernel.blocked;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Where the channels of an image batch in NHWC or NCHWc live, as groups of up to {@link #LANES}
 * adjacent channels: channel {@code c} of pixel {@code p} of image {@code n} is at {@code n *
 * imageStride + (c / 16) * groupStride + p * pixelStride + c % 16}. NHWC: groups 16 floats apart,
 * pixels C apart; NCHWc: groups a plane of 16-channel pixels apart, pixels 16 apart. The last
 * group holds {@code C - 16 * (groups - 1)} real channels; kernels read and write only those, so
 * NCHWc's padding channels stay as they are (zero).
 *
 * @param channels C
 * @param pixels H * W
 */
public record ChannelTiling(
    Layout layout, int images, int channels, int height, int width, int pixels, long imageStride,
    long groupStride, int pixelStride) {
  /** Channels per group: one 512-bit vector, and NCHWc's block. */
  public static final int LANES = Layout.CHANNEL_BLOCK;

  static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;
  static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** The tiling of {@code t}, an (N, C, H, W) batch in NHWC or NCHWc. */
  public static ChannelTiling of(Tensor t) {
    return of(t.layout(), t.dim(0), t.dim(1), t.dim(2), t.dim(3));
  }

  /** The tiling of n images of (c, h, w) in {@code layout} (NHWC or NCHWc). */
  public static ChannelTiling of(Layout layout, int n, int c, int h, int w) {
    int hw = h * w;
    return switch (layout) {
      case NHWC -> new ChannelTiling(layout, n, c, h, w, hw, (long) hw * c, LANES, c);
      case NCHWC -> new ChannelTiling(layout, n, c, h, w, hw, layout.imageSize(c, h, w),
          (long) hw * LANES, LANES);
      case NCHW -> throw new IllegalArgumentException("NCHW has no channel groups; use the NCHW kernels");
    };
  }

  /** Channel groups: {@code ceil(C / 16)}. */
  public int groups() {
    return Layout.blocks(channels);
  }

  /** Real channels in group {@code g}. */
  public int lanes(int g) {
    return Math.min(LANES, channels - g * LANES);
  }

  /** Offset of the first channel of group {@code g} at pixel {@code p} of image {@code n}. */
  public long at(int n, int g, int p) {
    return n * imageStride + g * groupStride + (long) p * pixelStride;
  }

  /** Offset of pixel (y, x), channel 0 of group {@code g}, of image {@code n}. */
  public long at(int n, int g, int y, int x) {
    return at(n, g, y * width + x);
  }

  static VectorMask<Float> mask(int lanes) {
    return SPECIES.indexInRange(0, lanes);
  }

  static FloatVector load(MemorySegment s, long index, VectorMask<Float> m) {
    return FloatVector.fromMemorySegment(SPECIES, s, index * Float.BYTES, ORDER, m);
  }

  static void store(FloatVector v, MemorySegment s, long index, VectorMask<Float> m) {
    v.intoMemorySegment(s, index * Float.BYTES, ORDER, m);
  }

  /** A vector of {@code values[from, from + 16)}, lanes past the array's end zero. */
  static FloatVector fromArray(float[] values, int from) {
    return FloatVector.fromArray(SPECIES, values, from, SPECIES.indexInRange(from, values.length));
  }

  static float get(MemorySegment s, long index) {
    return s.getAtIndex(F32, index);
  }

  static void set(MemorySegment s, long index, float v) {
    s.setAtIndex(F32, index, v);
  }
}
