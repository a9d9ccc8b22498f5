package io.dlsql.executor.kernel.blocked;

import static io.dlsql.executor.kernel.blocked.ChannelTiling.LANES;

import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;

/**
 * The channels that pad the last block of an NCHWc tensor past C. Every kernel keeps them zero
 * (so a blocked convolution may read whole blocks); an elementwise function that does not map
 * zero to zero (sigmoid) clears them after its pass.
 */
public final class ChannelPadding {
  private ChannelPadding() {}

  /** Sets the padding channels of an NCHWc tensor to zero; other layouts have none. */
  public static void clear(Tensor t) {
    forEachPadding(t, (at) -> t.setFlat(at, 0f));
  }

  /** The largest absolute value held in padding channels (0 when the invariant holds). */
  public static float maxAbs(Tensor t) {
    float[] max = {0f};
    forEachPadding(t, (at) -> max[0] = Math.max(max[0], Math.abs(t.getFlat(at))));
    return max[0];
  }

  private interface Visit {
    void at(long index);
  }

  private static void forEachPadding(Tensor t, Visit visit) {
    if (t.layout() != Layout.NCHWC || t.dim(1) % LANES == 0) {
      return;
    }
    ChannelTiling tiling = ChannelTiling.of(t);
    int last = tiling.groups() - 1;
    int lanes = tiling.lanes(last);
    for (int n = 0; n < tiling.images(); n++) {
      for (int p = 0; p < tiling.pixels(); p++) {
        long at = tiling.at(n, last, p);
        for (int l = lanes; l < LANES; l++) {
          visit.at(at + l);
        }
      }
    }
  }
}
