package io.dlsql.executor.train;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A dataset over samples already in memory (an Arrow buffer, a mapped file): uint8 pixels scaled
 * by a factor (1/255 like torchvision's ToTensor) or float32 values, optionally normalised per
 * channel with {@code (x - mean[c]) / std[c]}. The memory is read, never copied whole.
 */
public final class InMemoryDataset implements Dataset {
  /** Scale that maps uint8 pixels to [0, 1]. */
  public static final float UINT8_TO_UNIT = 1f / 255f;

  private final MemorySegment data;
  private final boolean uint8;
  private final int n;
  private final int[] shape;
  private final int sampleSize;
  private final int[] labels;
  private final float scale;
  private final float[] mean;
  private final float[] invStd;

  private InMemoryDataset(MemorySegment data, boolean uint8, int n, int[] shape, int[] labels,
      float scale, float[] mean, float[] invStd) {
    this.data = data;
    this.uint8 = uint8;
    this.n = n;
    this.shape = shape.clone();
    long size = 1;
    for (int d : shape) {
      if (d <= 0) {
        throw new UserException("sample shape " + Arrays.toString(shape) + " has a non-positive size");
      }
      size *= d;
    }
    this.sampleSize = Math.toIntExact(size);
    long needed = (long) n * sampleSize * (uint8 ? 1 : Float.BYTES);
    if (data.byteSize() < needed) {
      throw new UserException(
          n + " samples of shape " + Arrays.toString(shape) + " need " + needed + " bytes, the data has "
              + data.byteSize());
    }
    if (labels != null && labels.length < n) {
      throw new UserException(n + " samples but only " + labels.length + " labels");
    }
    this.labels = labels;
    this.scale = scale;
    this.mean = mean;
    this.invStd = invStd;
  }

  /** {@code n} samples of uint8 pixels in (C, H, W) order, each value multiplied by {@code scale}. */
  public static InMemoryDataset ofUint8(MemorySegment pixels, int n, int[] shape, int[] labels, float scale) {
    return new InMemoryDataset(pixels, true, n, shape, labels, scale, null, null);
  }

  /** {@code n} samples of float32 values in (C, H, W) order, little-endian, used as they are. */
  public static InMemoryDataset ofFloat32(MemorySegment values, int n, int[] shape, int[] labels) {
    return new InMemoryDataset(values, false, n, shape, labels, 1f, null, null);
  }

  /** The same data normalised per channel after scaling: {@code (x - mean[c]) / std[c]}. */
  public InMemoryDataset normalized(float[] channelMean, float[] channelStd) {
    if (channelMean.length != shape[0] || channelStd.length != shape[0]) {
      throw new UserException(
          "normalisation needs one mean and one std per channel (" + shape[0] + "), got "
              + channelMean.length + " and " + channelStd.length);
    }
    float[] inv = new float[channelStd.length];
    for (int c = 0; c < inv.length; c++) {
      if (!(channelStd[c] > 0)) {
        throw new UserException("normalisation std must be positive, got " + channelStd[c]);
      }
      inv[c] = 1f / channelStd[c];
    }
    return new InMemoryDataset(data, uint8, n, shape, labels, scale, channelMean.clone(), inv);
  }

  @Override
  public int size() {
    return n;
  }

  @Override
  public int[] sampleShape() {
    return shape.clone();
  }

  @Override
  public boolean hasLabels() {
    return labels != null;
  }

  /** The label of sample i (-1 without labels). */
  public int label(int i) {
    return labels == null ? -1 : labels[i];
  }

  @Override
  public void load(int[] indices, int from, int count, Tensor dest, int[] labelsDest) {
    MemorySegment out = dest.segment();
    int planeSize = shape.length == 3 ? shape[1] * shape[2] : sampleSize / shape[0];
    for (int k = 0; k < count; k++) {
      int idx = indices[from + k];
      if (idx < 0 || idx >= n) {
        throw new IndexOutOfBoundsException("sample " + idx + " of " + n);
      }
      long src = (long) idx * sampleSize;
      long dst = (long) k * sampleSize;
      if (uint8) {
        for (int i = 0; i < sampleSize; i++) {
          out.setAtIndex(F32, dst + i, (data.get(ValueLayout.JAVA_BYTE, src + i) & 0xFF) * scale);
        }
      } else {
        MemorySegment.copy(data, src * Float.BYTES, out, dst * Float.BYTES, (long) sampleSize * Float.BYTES);
      }
      if (mean != null) {
        for (int i = 0; i < sampleSize; i++) {
          int c = i / planeSize;
          out.setAtIndex(F32, dst + i, (out.getAtIndex(F32, dst + i) - mean[c]) * invStd[c]);
        }
      }
      if (labelsDest != null) {
        labelsDest[k] = labels == null ? -1 : labels[idx];
      }
    }
  }
}
