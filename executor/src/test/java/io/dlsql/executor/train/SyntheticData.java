package io.dlsql.executor.train;

import io.dlsql.executor.random.Rng;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Small learnable image datasets for tests: the class decides which quadrant is bright. */
final class SyntheticData {
  private SyntheticData() {}

  /** n uint8 images (channels, size, size), 4 classes: the bright quadrant is the label, plus noise. */
  static InMemoryDataset quadrants(int n, int channels, int size, long seed) {
    Rng rng = new Rng(seed);
    MemorySegment pixels = Arena.ofAuto().allocate((long) n * channels * size * size);
    int[] labels = new int[n];
    int half = size / 2;
    for (int i = 0; i < n; i++) {
      int label = rng.nextInt(4);
      labels[i] = label;
      for (int c = 0; c < channels; c++) {
        for (int y = 0; y < size; y++) {
          for (int x = 0; x < size; x++) {
            int quadrant = (y >= half ? 2 : 0) + (x >= half ? 1 : 0);
            int v = (quadrant == label ? 150 : 40) + rng.nextInt(100);
            pixels.set(ValueLayout.JAVA_BYTE, (((long) i * channels + c) * size + y) * size + x, (byte) v);
          }
        }
      }
    }
    return InMemoryDataset.ofUint8(pixels, n, new int[] {channels, size, size}, labels, InMemoryDataset.UINT8_TO_UNIT);
  }
}
