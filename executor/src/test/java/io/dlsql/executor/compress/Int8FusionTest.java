package io.dlsql.executor.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.layer.Pool2d;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.InMemoryDataset;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The fused int8 epilogues (ReLU and max pooling inside the convolution, ReLU inside the dense
 * layer) and the fp32-codes lowering: against a float64 evaluation of the quantized arithmetic,
 * against the executor's own pooling layer, and fused against unfused networks bit for bit.
 */
class Int8FusionTest {
  /** Pooling windows: 2x2/2 (the vector path), 3x3/2 padded 1, 2x2/1, 3x3/3. */
  private static final int[][] WINDOWS = {{2, 2, 0}, {3, 2, 1}, {2, 1, 0}, {3, 3, 0}};
  /** Nets up to this many nodes are also run with the reference GEMM. */
  private static final int SMALL_NET_NODES = 30;

  @Test
  void fusedMaxPoolingMatchesThePoolingLayer() {
    int[][] planes = {{3, 8, 8}, {5, 6, 10}, {2, 7, 9}, {4, 28, 28}, {7, 14, 14}, {1, 2, 34}};
    for (Gemm.Variant kernels : Gemm.Variant.values()) {
      Gemm.Variant before = Gemm.variant();
      Gemm.setVariant(kernels);
      try (Arena arena = Arena.ofConfined()) {
        for (int[] s : planes) {
          for (int[] win : WINDOWS) {
            int k = win[0], stride = win[1], pad = win[2];
            int oh = (s[1] + 2 * pad - k) / stride + 1;
            int ow = (s[2] + 2 * pad - k) / stride + 1;
            try (Tensor x = Fixtures.randomInput(1, s, s[0] * 100 + k);
                Tensor y = Tensor.zeros(1, s[0], oh, ow);
                Pool2d layer = new Pool2d("p", s, new int[] {s[0], oh, ow}, true, k, k, stride, stride, pad, pad)) {
              layer.forward(new Tensor[] {x}, y, false);
              MemorySegment got = arena.allocate((long) s[0] * oh * ow * Float.BYTES);
              MemorySegment scratch = arena.allocate((long) s[0] * s[1] * s[2] * Float.BYTES);
              MaxPooling.forward(x.segment(), 0, s[0], s[1], s[2],
                  new Int8Conv2d.MaxPool(k, k, stride, stride, pad, pad, oh, ow), got, 0, scratch);
              assertArrayEquals(y.toFloatArray(), got.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT),
                  kernels + " " + java.util.Arrays.toString(s) + " window " + java.util.Arrays.toString(win));
            }
          }
        }
      } finally {
        Gemm.setVariant(before);
      }
    }
  }

  /** Int8 convolution + ReLU + max pooling, every lowering, against float64 on the same integers. */
  @Test
  void fusedInt8ConvolutionMatchesAFloat64Reference() {
    Rng rng = new Rng(5);
    ConvGeometry[] geometries = {
      ConvGeometry.of(3, 8, 8, 5, 3, 1, 1, 1, 1), // stride 1: implicit GEMM on fp32 codes
      ConvGeometry.of(4, 10, 10, 6, 3, 2, 1, 1, 1), // stride 2: im2col + GEMM on fp32 codes
      ConvGeometry.of(48, 6, 6, 4, 5, 1, 2, 1, 1), // K = 1200 > EXACT_K: bytes and Int8Gemm
      ConvGeometry.of(6, 6, 6, 8, 1, 1, 0, 1, 1), // pointwise
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
      Int8Quantizer.ChannelQuantized q = Int8Quantizer.perChannel(w, g.outChannels());
      float inputScale = 1f / 127;
      int n = 3;
      int ph = g.outHeight() / 2, pw = g.outWidth() / 2;
      Int8Conv2d.MaxPool pool = new Int8Conv2d.MaxPool(2, 2, 2, 2, 0, 0, ph, pw);
      for (Int8Conv2d.Epilogue e : List.of(Int8Conv2d.Epilogue.NONE, new Int8Conv2d.Epilogue(true, null),
          new Int8Conv2d.Epilogue(true, pool), new Int8Conv2d.Epilogue(false, pool),
          new Int8Conv2d.Epilogue(true, true, null), new Int8Conv2d.Epilogue(true, false, null))) {
        int oh = e.pool() == null ? g.outHeight() : ph;
        int ow = e.pool() == null ? g.outWidth() : pw;
        try (Tensor x = Fixtures.randomInput(n, new int[] {g.inChannels(), g.inHeight(), g.inWidth()}, 6);
            Tensor r = Fixtures.randomInput(n, new int[] {g.outChannels(), g.outHeight(), g.outWidth()}, 7);
            Tensor y = Tensor.zeros(n, g.outChannels(), oh, ow);
            Int8Conv2d conv = new Int8Conv2d(g, q, bias, inputScale, e)) {
          float[] residual = e.residual() ? r.toFloatArray() : null;
          double[] expected = reference(g, n, x.toFloatArray(), q, bias, inputScale, residual, e.relu(),
              e.pool() == null ? 0 : 2);
          Tensor[] inputs = e.residual() ? new Tensor[] {x, r} : new Tensor[] {x};
          float[] first = null;
          for (Int8Gemm.Variant v : Int8Gemm.Variant.values()) {
            conv.setVariant(v);
            conv.forward(inputs, y);
            float[] got = y.toFloatArray();
            for (int i = 0; i < expected.length; i++) {
              assertEquals(expected[i], got[i], 1e-5 * (1 + Math.abs(expected[i])), v + " " + conv.lowering() + " " + g + " " + e + " at " + i);
            }
            // Every lowering computes the same integers, so the same floats.
            if (first == null) {
              first = got;
            } else {
              assertArrayEquals(first, got, v + " " + g + " " + e);
            }
          }
        }
      }
    }
  }

  /**
   * conv in float64 from the int8 codes, rescaled, plus the residual (may be null), then ReLU and a
   * {@code pool x pool} max pooling (0: none).
   */
  private static double[] reference(ConvGeometry g, int n, float[] x, Int8Quantizer.ChannelQuantized q,
      float[] bias, float inputScale, float[] residual, boolean relu, int pool) {
    int oh = g.outHeight(), ow = g.outWidth();
    double[] conv = new double[n * g.outChannels() * oh * ow];
    for (int img = 0; img < n; img++) {
      for (int o = 0; o < g.outChannels(); o++) {
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            long acc = 0;
            for (int c = 0; c < g.inChannels(); c++) {
              for (int ky = 0; ky < g.kernelH(); ky++) {
                for (int kx = 0; kx < g.kernelW(); kx++) {
                  int iy = oy * g.strideH() - g.padTop() + ky;
                  int ix = ox * g.strideW() - g.padLeft() + kx;
                  if (iy < 0 || iy >= g.inHeight() || ix < 0 || ix >= g.inWidth()) {
                    continue;
                  }
                  float xv = x[((img * g.inChannels() + c) * g.inHeight() + iy) * g.inWidth() + ix];
                  acc += (long) Int8Quantizer.quantize(xv, 1 / inputScale)
                      * q.codes()[((o * g.inChannels() + c) * g.kernelH() + ky) * g.kernelW() + kx];
                }
              }
            }
            int at = ((img * g.outChannels() + o) * oh + oy) * ow + ox;
            double v = acc * (double) inputScale * q.scales()[o] + bias[o] + (residual == null ? 0 : residual[at]);
            conv[at] = relu ? Math.max(v, 0) : v;
          }
        }
      }
    }
    if (pool == 0) {
      return conv;
    }
    int ph = oh / pool, pw = ow / pool;
    double[] out = new double[n * g.outChannels() * ph * pw];
    for (int plane = 0; plane < n * g.outChannels(); plane++) {
      for (int py = 0; py < ph; py++) {
        for (int px = 0; px < pw; px++) {
          double best = Double.NEGATIVE_INFINITY;
          for (int dy = 0; dy < pool; dy++) {
            for (int dx = 0; dx < pool; dx++) {
              best = Math.max(best, conv[(plane * oh + py * pool + dy) * ow + px * pool + dx]);
            }
          }
          out[(plane * ph + py) * pw + px] = best;
        }
      }
    }
    return out;
  }

  /**
   * A dense layer longer than one exact fp32 block (F > EXACT_K), with its ReLU, against float64:
   * with uniform weights (codes too large for one exact GEMM: k-blocks added in int32), and with
   * one large weight per unit and small others (codes small enough that one GEMM over all features
   * is exact).
   */
  @Test
  void int8DenseAcrossExactBlocksMatchesAFloat64Reference() {
    for (boolean smallCodes : new boolean[] {false, true}) {
      int8DenseMatchesAFloat64Reference(smallCodes);
    }
  }

  private static void int8DenseMatchesAFloat64Reference(boolean smallCodes) {
    Rng rng = new Rng(9);
    int features = 2 * Int8Gemm.EXACT_K + 17;
    int units = 37;
    int n = 11;
    float[] w = new float[units * features];
    float[] bias = new float[units];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) rng.uniform(-1, 1) * (smallCodes ? 0.02f : 1f);
    }
    if (smallCodes) {
      for (int u = 0; u < units; u++) {
        w[u * features + u] = 1f; // the unit's scale: the others quantize to codes of at most 3
      }
    }
    for (int i = 0; i < units; i++) {
      bias[i] = (float) rng.uniform(-0.5, 0.5);
    }
    Int8Quantizer.ChannelQuantized q = Int8Quantizer.perChannel(w, units);
    float inputScale = 1f / 127;
    try (Tensor x = Fixtures.randomInput(n, new int[] {features}, 10);
        Tensor y = Tensor.zeros(n, units);
        Int8Dense dense = new Int8Dense(features, q, bias, inputScale, true)) {
      assertEquals(smallCodes, dense.oneExactBlock());
      float[] xs = x.toFloatArray();
      float[] first = null;
      for (Int8Gemm.Variant v : Int8Gemm.Variant.values()) {
        dense.setVariant(v);
        dense.forward(new Tensor[] {x}, y);
        float[] got = y.toFloatArray();
        for (int r = 0; r < n; r++) {
          for (int u = 0; u < units; u++) {
            long acc = 0;
            for (int f = 0; f < features; f++) {
              acc += (long) Int8Quantizer.quantize(xs[r * features + f], 1 / inputScale) * q.codes()[u * features + f];
            }
            double expected = Math.max(acc * (double) inputScale * q.scales()[u] + bias[u], 0);
            assertEquals(expected, got[r * units + u], 1e-5 * (1 + Math.abs(expected)), v + " at " + r + "," + u);
          }
        }
        if (first == null) {
          first = got;
        } else {
          assertArrayEquals(first, got, v.toString());
        }
      }
    }
  }

  /**
   * The anchor convnet (conv-relu-pool chains, dense-relu), ResNet-20 (conv-relu, conv-add-relu)
   * and small nets: fused and unfused agree bit for bit, and the reference GEMM gives the same.
   */
  @Test
  void fusedNetworksGiveTheSameLogitsAsUnfused() {
    List<NetworkSpec> specs = List.of(
        Architectures.build("convnet", Map.of(), new int[] {1, 28, 28}, 10),
        Architectures.build("resnet", Map.of("depth", 20), new int[] {1, 28, 28}, 10),
        Fixtures.tinyResnet(),
        Fixtures.smallConvnet());
    for (NetworkSpec spec : specs) {
      LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 61);
      InMemoryDataset calibration = Fixtures.randomDataset(4, spec.inputShape(), spec.classes(), 62);
      try (QuantizedNetwork fused = QuantizedNetwork.quantize(spec, w, calibration, Calibration.Options.defaults());
          QuantizedNetwork plain = new QuantizedNetwork(spec, fused.model(), false);
          Tensor x = Fixtures.randomInput(2, spec.inputShape(), 63)) {
        assertTrue(!QuantizedNetwork.fusedChains(fused.model().foldedSpec(), fused.layers().keySet()).isEmpty());
        float[] expected = plain.forward(x).toFloatArray();
        assertArrayEquals(expected, fused.forward(x).toFloatArray(), spec.outputName());
        if (spec.nodes().size() <= SMALL_NET_NODES) {
          // Plain loops take long on the big nets; the small ones have every chain kind too.
          plain.setGemmVariant(Int8Gemm.Variant.REFERENCE);
          assertArrayEquals(expected, plain.forward(x).toFloatArray(), spec.outputName() + " reference");
        }
      }
    }
  }

  /**
   * The steps EXPLAIN shows for an int8 ResNet-20 are what forward runs: batchnorms folded away,
   * every convolution int8 with its fused chain, the lowering named after the GEMM variant in use.
   */
  @Test
  void stepsNameTheKernelsThatRun() {
    NetworkSpec spec = Architectures.build("resnet", Map.of("depth", 20), new int[] {1, 28, 28}, 10);
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 71);
    InMemoryDataset calibration = Fixtures.randomDataset(2, spec.inputShape(), spec.classes(), 72);
    try (QuantizedNetwork q = QuantizedNetwork.quantize(spec, w, calibration, Calibration.Options.defaults())) {
      List<QuantizedNetwork.Step> steps = q.steps();
      long convs = steps.stream().filter(s -> s.operator().equals("conv2d")).count();
      assertEquals(21, convs, "19 3x3 convolutions and 2 projection shortcuts");
      for (QuantizedNetwork.Step s : steps) {
        assertTrue(!s.operator().equals("batchnorm2d"), "batchnorm is folded: " + s);
        boolean int8 = s.operator().equals("conv2d") || s.operator().equals("dense");
        assertEquals(int8 ? "int8" : "fp32", s.precision(), s.toString());
      }
      // The second convolution of the first block: conv -> ADD(shortcut) -> ReLU in one kernel.
      QuantizedNetwork.Step residual = steps.stream().filter(s -> s.name().equals("layer1.0.conv2")).findFirst()
          .orElseThrow();
      assertEquals("layer1.0.conv2+layer1.0.add+layer1.0.relu2", residual.fusion());
      boolean vector = Gemm.variant() != Gemm.Variant.REFERENCE;
      assertEquals(vector ? "implicit_gemm on int8 codes in fp32 (exact)" : "int8 im2col + int8 gemm (reference)",
          residual.algorithm());
      q.setGemmVariant(Int8Gemm.Variant.INT32);
      assertEquals("int8 im2col + int8 gemm (int32)", q.steps().stream()
          .filter(s -> s.name().equals("layer1.0.conv2")).findFirst().orElseThrow().algorithm());
    }
  }
}
