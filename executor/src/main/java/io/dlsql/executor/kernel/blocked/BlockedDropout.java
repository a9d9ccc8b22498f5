package io.dlsql.executor.kernel.blocked;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import java.lang.foreign.MemorySegment;

/**
 * Inverted dropout over NHWC and NCHWc batches with the masks of the NCHW layer: sample {@code s}
 * draws from {@code Rng.derive(seed, s)} in logical (c, h, w) order, and each draw lands at that
 * element's place in the layout, so a network gives the same result in every layout. Padding
 * channels are neither drawn nor written: their mask and output stay zero.
 */
public final class BlockedDropout {
  private BlockedDropout() {}

  // y = x * mask, mask[i] = 0 with probability p else 1 / (1 - p)
  public static void forward(ChannelTiling t, MemorySegment x, MemorySegment y, MemorySegment mask, float p,
      long seed) {
    float keep = 1f / (1f - p);
    Layout layout = t.layout();
    Parallel.get().forRange(t.images(), 1, (chunk, from, to) -> {
      for (int s = from; s < to; s++) {
        Rng rng = Rng.derive(seed, s);
        long base = s * t.imageStride();
        for (int c = 0; c < t.channels(); c++) {
          for (int i = 0; i < t.height(); i++) {
            for (int j = 0; j < t.width(); j++) {
              float k = rng.nextFloat() < p ? 0f : keep;
              long at = base + layout.offset(t.channels(), t.height(), t.width(), c, i, j);
              ChannelTiling.set(mask, at, k);
              ChannelTiling.set(y, at, ChannelTiling.get(x, at) * k);
            }
          }
        }
      }
    });
  }
}
