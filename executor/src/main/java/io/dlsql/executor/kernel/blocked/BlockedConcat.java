package io.dlsql.executor.kernel.blocked;

import static io.dlsql.executor.kernel.blocked.ChannelTiling.LANES;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Channel concatenation over NHWC and NCHWc batches: part k's channels land at channel offset
 * {@code sum of C_j, j < k} of the whole. Runs of channels that stay within one group of both
 * sides are copied whole (all of a pixel's channels in NHWC, whole blocks in NCHWc when the
 * offset is a multiple of 16); other channels one by one. Images are split across threads.
 */
public final class BlockedConcat {
  private BlockedConcat() {}

  /** Copies each non-null part (of {@code partChannels[k]} channels) into its channels of {@code whole} (forward), or those channels back into the part (backward). */
  public static void copy(Tensor[] parts, int[] partChannels, Tensor whole, boolean intoWhole) {
    ChannelTiling w = ChannelTiling.of(whole);
    MemorySegment ws = whole.segment();
    Parallel.get().forRange(w.images(), 1, (chunk, from, to) -> {
      int offset = 0;
      for (int k = 0; k < parts.length; k++) {
        Tensor part = parts[k];
        int c = partChannels[k];
        if (part == null) {
          offset += c;
          continue;
        }
        ChannelTiling p = ChannelTiling.of(part);
        MemorySegment ps = part.segment();
        for (int n = from; n < to; n++) {
          copyImage(p, ps, w, ws, n, offset, intoWhole);
        }
        offset += c;
      }
    });
  }

  private static void copyImage(ChannelTiling p, MemorySegment ps, ChannelTiling w, MemorySegment ws, int n,
      int offset, boolean intoWhole) {
    if (w.layout() == Layout.NHWC) {
      // A pixel's channels are contiguous on both sides: one run per pixel.
      for (int px = 0; px < p.pixels(); px++) {
        move(ps, n * p.imageStride() + (long) px * p.pixelStride(), ws,
            n * w.imageStride() + (long) px * w.pixelStride() + offset, p.channels(), intoWhole);
      }
      return;
    }
    for (int g = 0; g < p.groups(); g++) {
      int first = offset + g * LANES;
      int lanes = p.lanes(g);
      for (int px = 0; px < p.pixels(); px++) {
        long a = p.at(n, g, px);
        if (offset % LANES == 0) {
          move(ps, a, ws, w.at(n, first / LANES, px), lanes, intoWhole);
          continue;
        }
        for (int l = 0; l < lanes; l++) {
          int c = first + l;
          move(ps, a + l, ws, w.at(n, c / LANES, px) + c % LANES, 1, intoWhole);
        }
      }
    }
  }

  private static void move(MemorySegment part, long a, MemorySegment whole, long b, int floats, boolean intoWhole) {
    if (intoWhole) {
      MemorySegment.copy(part, a * Float.BYTES, whole, b * Float.BYTES, (long) floats * Float.BYTES);
    } else {
      MemorySegment.copy(whole, b * Float.BYTES, part, a * Float.BYTES, (long) floats * Float.BYTES);
    }
  }
}
