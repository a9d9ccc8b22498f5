package io.dlsql.executor.kernel.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each conversion against its index definition, and every round trip back to NCHW, on odd shapes. */
class LayoutConversionTest {
  @ParameterizedTest
  @CsvSource({"2, 3, 5, 7, 1", "3, 16, 4, 4, 3", "2, 37, 9, 11, 2", "1, 64, 7, 7, 1", "2, 20, 70, 3, 2"})
  void conversionsFollowTheirDefinitions(int n, int c, int h, int w, int threads) {
    int before = Parallel.get().threads();
    Parallel.setThreads(threads);
    int blocks = LayoutConversion.blocks(c);
    int cb = LayoutConversion.CHANNEL_BLOCK;
    try (Tensor x = Tensor.zeros(n, c, h, w);
        Tensor nhwc = Tensor.zeros(n, h, w, c);
        Tensor nchwc = Tensor.zeros(n, blocks, h, w, cb);
        Tensor back = Tensor.zeros(n, c, h, w)) {
      for (long i = 0; i < x.numel(); i++) {
        x.setFlat(i, i * 0.5f + 1);
      }
      nchwc.fill(-9f);
      LayoutConversion.nchwToNhwc(x.segment(), nhwc.segment(), n, c, h, w);
      LayoutConversion.nchwToNchwc(x.segment(), nchwc.segment(), n, c, h, w);
      for (int s = 0; s < n; s++) {
        for (int ch = 0; ch < blocks * cb; ch++) {
          for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
              float blocked = nchwc.get(s, ch / cb, i, j, ch % cb);
              if (ch >= c) {
                assertEquals(0f, blocked, "padding channel " + ch);
                continue;
              }
              assertEquals(x.get(s, ch, i, j), nhwc.get(s, i, j, ch));
              assertEquals(x.get(s, ch, i, j), blocked);
            }
          }
        }
      }
      LayoutConversion.nhwcToNchw(nhwc.segment(), back.segment(), n, c, h, w);
      assertArrayEquals(x.toFloatArray(), back.toFloatArray(), "NHWC round trip");
      back.fill(0f);
      LayoutConversion.nchwcToNchw(nchwc.segment(), back.segment(), n, c, h, w);
      assertArrayEquals(x.toFloatArray(), back.toFloatArray(), "NCHWc round trip");
      assertEquals(nchwc.numel(), n * LayoutConversion.nchwcImageSize(c, h, w));
    } finally {
      Parallel.setThreads(before);
    }
  }
}
