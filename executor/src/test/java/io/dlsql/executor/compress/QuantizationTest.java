package io.dlsql.executor.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.InMemoryDataset;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuantizationTest {
  private static MemorySegment randomCodes(Arena arena, long n, Rng rng) {
    MemorySegment s = arena.allocate(n);
    for (long i = 0; i < n; i++) {
      s.set(ValueLayout.JAVA_BYTE, i, (byte) (rng.nextInt(2 * Int8Gemm.MAX_MAGNITUDE + 1) - Int8Gemm.MAX_MAGNITUDE));
    }
    return s;
  }

  @Test
  void everyInt8GemmVariantEqualsTheInt64Product() {
    Rng rng = new Rng(3);
    int[][] shapes = {{1, 1, 1}, {5, 37, 13}, {4, 32, 8}, {9, 70, 27}, {16, 200, 75}, {3, 5, 2}, {3, 20, 2500}};
    try (Arena arena = Arena.ofConfined()) {
      for (int[] s : shapes) {
        int m = s[0], n = s[1], k = s[2];
        // Leading dimensions wider than the rows, to catch offset mistakes.
        int lda = k + 3, ldb = n + 5, ldc = n + 2;
        MemorySegment a = randomCodes(arena, (long) m * lda, rng);
        MemorySegment b = randomCodes(arena, (long) k * ldb, rng);
        long[] expected = new long[m * n];
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            long sum = 0;
            for (int p = 0; p < k; p++) {
              sum += (long) a.get(ValueLayout.JAVA_BYTE, (long) i * lda + p) * b.get(ValueLayout.JAVA_BYTE, (long) p * ldb + j);
            }
            expected[i * n + j] = sum;
          }
        }
        for (Int8Gemm.Variant v : Int8Gemm.Variant.values()) {
          MemorySegment c = arena.allocate((long) m * ldc * Integer.BYTES);
          Int8Gemm.multiply(v, m, n, k, a, 0, lda, b, 0, ldb, c, 0, ldc);
          for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
              assertEquals(expected[i * n + j], c.getAtIndex(ValueLayout.JAVA_INT, (long) i * ldc + j),
                  v + " " + m + "x" + n + "x" + k + " at " + i + "," + j);
            }
          }
        }
      }
    }
  }

  @Test
  void vectorAndScalarQuantizationAgreeAndRoundToNearest() {
    Rng rng = new Rng(5);
    int n = 100;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment x = arena.allocate(n * 4L);
      for (int i = 0; i < n; i++) {
        x.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rng.uniform(-3, 3));
      }
      float scale = 2f / 127;
      MemorySegment vq = arena.allocate(n);
      MemorySegment sq = arena.allocate(n);
      Int8Quantizer.quantize(x, 0, vq, 0, n, 1 / scale);
      Gemm.Variant keep = Gemm.variant();
      try {
        Gemm.setVariant(Gemm.Variant.REFERENCE);
        Int8Quantizer.quantize(x, 0, sq, 0, n, 1 / scale);
      } finally {
        Gemm.setVariant(keep);
      }
      for (int i = 0; i < n; i++) {
        float v = x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        byte q = vq.get(ValueLayout.JAVA_BYTE, i);
        assertEquals(sq.get(ValueLayout.JAVA_BYTE, i), q, "element " + i);
        double expected = Math.max(-127, Math.min(127, Math.rint(v / (double) scale)));
        assertTrue(Math.abs(q - expected) <= 1 && Math.abs(q * scale - Math.max(-2, Math.min(2, v))) <= scale / 2 + 1e-6,
            v + " -> " + q);
      }
    }
  }

  @Test
  void perChannelWeightsAreWithinHalfAStepOfTheOriginal() {
    Rng rng = new Rng(6);
    float[] w = new float[3 * 10];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rng.uniform(-1, 1) * (1 + i / 10);
    }
    w[20] = 0;
    Int8Quantizer.ChannelQuantized q = Int8Quantizer.perChannel(w, 3);
    float[] back = q.dequantize();
    for (int r = 0; r < 3; r++) {
      double max = 0;
      for (int c = 0; c < 10; c++) {
        max = Math.max(max, Math.abs(w[r * 10 + c]));
        assertTrue(Math.abs(back[r * 10 + c] - w[r * 10 + c]) <= q.scales()[r] / 2 + 1e-7);
      }
      assertEquals(max / 127, q.scales()[r], 1e-7);
    }
    float[] zeros = new float[4];
    assertArrayEquals(new float[4], Int8Quantizer.perChannel(zeros, 2).dequantize());
  }

  /** The int8 convolution against a float64 evaluation of the same quantized arithmetic. */
  @Test
  void int8ConvolutionMatchesAFloat64ReferenceOfTheQuantizedArithmetic() {
    Rng rng = new Rng(11);
    ConvGeometry[] geometries = {
      ConvGeometry.of(3, 7, 6, 5, 3, 1, 1, 1, 1),
      ConvGeometry.of(4, 9, 9, 6, 3, 2, 0, 1, 2),
      ConvGeometry.of(6, 5, 5, 4, 1, 1, 0, 1, 1),
      ConvGeometry.of(4, 6, 6, 4, 3, 1, 1, 2, 4),
    };
    for (ConvGeometry g : geometries) {
      float[] w = new float[(int) g.weightCount()];
      float[] bias = new float[g.outChannels()];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) rng.uniform(-0.5, 0.5);
      }
      for (int i = 0; i < bias.length; i++) {
        bias[i] = (float) rng.uniform(-0.2, 0.2);
      }
      int n = 3;
      float inputScale = 1f / 127;
      Int8Quantizer.ChannelQuantized q = Int8Quantizer.perChannel(w, g.outChannels());
      try (Tensor x = Fixtures.randomInput(n, new int[] {g.inChannels(), g.inHeight(), g.inWidth()}, 12);
          Tensor y = Tensor.zeros(n, g.outChannels(), g.outHeight(), g.outWidth());
          Int8Conv2d conv = new Int8Conv2d(g, q, bias, inputScale)) {
        for (Int8Gemm.Variant v : Int8Gemm.Variant.values()) {
          conv.setVariant(v);
          conv.forward(new Tensor[] {x}, y);
          float[] got = y.toFloatArray();
          double[] expected = referenceConv(g, n, x.toFloatArray(), q, bias, inputScale);
          for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], 1e-5 * (1 + Math.abs(expected[i])), v + " " + g + " at " + i);
          }
        }
      }
    }
  }

  private static double[] referenceConv(
      ConvGeometry g, int n, float[] x, Int8Quantizer.ChannelQuantized q, float[] bias, float inputScale) {
    double[] out = new double[(int) (n * g.outputSize())];
    int cpg = g.inChannelsPerGroup();
    int opg = g.outChannelsPerGroup();
    for (int img = 0; img < n; img++) {
      for (int o = 0; o < g.outChannels(); o++) {
        int group = o / opg;
        for (int oy = 0; oy < g.outHeight(); oy++) {
          for (int ox = 0; ox < g.outWidth(); ox++) {
            long acc = 0;
            for (int c = 0; c < cpg; c++) {
              for (int ky = 0; ky < g.kernelH(); ky++) {
                for (int kx = 0; kx < g.kernelW(); kx++) {
                  int iy = oy * g.strideH() - g.padTop() + ky * g.dilationH();
                  int ix = ox * g.strideW() - g.padLeft() + kx * g.dilationW();
                  if (iy < 0 || iy >= g.inHeight() || ix < 0 || ix >= g.inWidth()) {
                    continue;
                  }
                  int ci = group * cpg + c;
                  float xv = x[((img * g.inChannels() + ci) * g.inHeight() + iy) * g.inWidth() + ix];
                  long xq = Int8Quantizer.quantize(xv, 1 / inputScale);
                  acc += xq * q.codes()[((o * cpg + c) * g.kernelH() + ky) * g.kernelW() + kx];
                }
              }
            }
            out[((img * g.outChannels() + o) * g.outHeight() + oy) * g.outWidth() + ox] =
                acc * (double) inputScale * q.scales()[o] + bias[o];
          }
        }
      }
    }
    return out;
  }

  @Test
  void foldedBatchNormGivesTheSameLogits() {
    NetworkSpec spec = Fixtures.tinyResnet();
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 21);
    BatchNormFolding.Folded folded = BatchNormFolding.fold(spec, w);
    assertTrue(folded.spec().nodes().size() < spec.nodes().size());
    assertFalse(folded.spec().nodes().stream().anyMatch(n -> n.op() == io.dlsql.executor.graph.Op.BATCHNORM2D));
    try (Network a = Network.build(spec, 1);
        Network b = Network.build(folded.spec(), 1);
        Tensor x = Fixtures.randomInput(4, spec.inputShape(), 22)) {
      a.loadStateDict(w);
      b.loadStateDict(folded.weights());
      float[] expected = a.forward(x, false).toFloatArray();
      float[] got = b.forward(x, false).toFloatArray();
      assertTrue(Fixtures.maxAbsDiff(expected, got) <= 1e-4 * (1 + Fixtures.maxAbs(expected)));
    }
  }

  @Test
  void graphExecutorMatchesNetworkExactly() {
    NetworkSpec spec = Fixtures.tinyResnet();
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 31);
    try (Network net = Network.build(spec, 1);
        GraphExecutor exec = new GraphExecutor(spec, w, null);
        Tensor x = Fixtures.randomInput(3, spec.inputShape(), 32)) {
      net.loadStateDict(w);
      // The graph executor runs batchnorm as its own op; the network folds it by default.
      net.setBatchNormFolding(false);
      assertArrayEquals(net.forward(x, false).toFloatArray(), exec.forward(x, null).toFloatArray());
    }
  }

  @Test
  void int8NetworksStayCloseToFp32() {
    for (NetworkSpec spec : new NetworkSpec[] {Fixtures.smallConvnet(), Fixtures.tinyResnet()}) {
      LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 41);
      InMemoryDataset calibration = Fixtures.randomDataset(64, spec.inputShape(), 4, 42);
      try (Network net = Network.build(spec, 1);
          QuantizedNetwork q = QuantizedNetwork.quantize(spec, w, calibration, Calibration.Options.defaults());
          Tensor x = Fixtures.randomInput(16, spec.inputShape(), 43)) {
        net.loadStateDict(w);
        float[] expected = net.forward(x, false).toFloatArray();
        float[] got = q.forward(x).toFloatArray();
        double err = Fixtures.maxAbsDiff(expected, got) / Fixtures.maxAbs(expected);
        // int8 with 7-bit signed activations: a few percent of the logit range, not more.
        assertTrue(err < 0.05, spec.outputName() + ": relative error " + err);
        // Variants give identical integers, so identical logits.
        q.setGemmVariant(Int8Gemm.Variant.REFERENCE);
        float[] reference = q.forward(x).toFloatArray();
        q.setGemmVariant(Int8Gemm.Variant.INT32);
        assertArrayEquals(reference, q.forward(x).toFloatArray());
        q.setGemmVariant(Int8Gemm.Variant.FP32_EXACT);
        assertArrayEquals(reference, q.forward(x).toFloatArray());
        // Stored form round trip and size: about a quarter of fp32.
        try (QuantizedNetwork reopened = QuantizedNetwork.open(spec, q.model())) {
          assertArrayEquals(reference, reopened.forward(x).toFloatArray());
        }
        long fp32 = ModelSize.fp32Bytes(w);
        assertTrue(q.bytes() < fp32 / 2.5, q.bytes() + " vs " + fp32);
      }
    }
  }

  @Test
  void percentileCalibrationClipsOutliers() {
    NetworkSpec spec = Fixtures.smallConvnet();
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 51);
    InMemoryDataset calibration = Fixtures.randomDataset(32, spec.inputShape(), 4, 52);
    try (QuantizedNetwork minmax = QuantizedNetwork.quantize(spec, w, calibration, Calibration.Options.defaults());
        QuantizedNetwork pct = QuantizedNetwork.quantize(spec, w, calibration,
            Calibration.Options.fromMap(Map.of("calibration", "percentile", "percentile", 90)))) {
      for (String layer : minmax.layers().keySet()) {
        assertTrue(pct.layers().get(layer).inputScale() <= minmax.layers().get(layer).inputScale(), layer);
      }
      assertTrue(pct.layers().values().iterator().next().inputScale()
          < minmax.layers().values().iterator().next().inputScale());
    }
  }

  @Test
  void calibrationMistakesAreUserErrors() {
    NetworkSpec spec = Fixtures.smallConvnet();
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 61);
    InMemoryDataset empty = Fixtures.randomDataset(0, spec.inputShape(), 4, 62);
    UserException e = assertThrows(UserException.class,
        () -> QuantizedNetwork.quantize(spec, w, empty, Calibration.Options.defaults()));
    assertTrue(e.getMessage().contains("at least one row"), e.getMessage());
    InMemoryDataset wrongShape = Fixtures.randomDataset(4, new int[] {1, 8, 8}, 4, 63);
    assertThrows(UserException.class, () -> QuantizedNetwork.quantize(spec, w, wrongShape, Calibration.Options.defaults()));
    assertThrows(UserException.class, () -> Calibration.Options.fromMap(Map.of("calibration", "entropy")));
    assertThrows(UserException.class, () -> Calibration.Options.fromMap(Map.of("percentile", 0)));
  }
}
