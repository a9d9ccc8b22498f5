package io.dlsql.bench;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.layout.LayoutConversion;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One {@link Conv2d} layer per convolution shape of the convnet, ResNet-20 and the MobileNet-style
 * net ({@link ConvLayerShape#LAYERS}) x algorithm x layout, batch {@link #BATCH}: the forward pass,
 * the weight gradient alone (backward with no input gradient), and the whole backward; the input
 * gradient's time is the difference. Pairs the executor does not run ({@link
 * Conv2d#supports(Conv2d.Algorithm, Layout, ConvGeometry)}) are skipped at setup, as is the
 * direct algorithm (the scalar variant 0, for correctness only). {@link BenchMain} prints GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ConvLayoutBenchmark {
  /** Images per call: a training batch's worth of work without minutes per configuration. */
  public static final int BATCH = 32;

  /** See {@link ConvLayerShape}. Same list as {@link ConvLayerShape#LAYERS}. */
  @Param({
    "cn.conv1:1x28x28-32k5s1p2",
    "cn.conv2:32x14x14-64k5s1p2",
    "r20.conv1:1x28x28-16k3s1p1",
    "r20.l1.conv:16x28x28-16k3s1p1",
    "r20.l2.conv1:16x28x28-32k3s2p1",
    "r20.l2.short:16x28x28-32k1s2p0",
    "r20.l2.conv:32x14x14-32k3s1p1",
    "r20.l3.conv1:32x14x14-64k3s2p1",
    "r20.l3.short:32x14x14-64k1s2p0",
    "r20.l3.conv:64x7x7-64k3s1p1",
    "mb.conv1:1x28x28-32k3s1p1",
    "mb.b1.dw:32x28x28-32k3s1p1g32",
    "mb.b1.pw:32x28x28-64k1s1p0",
    "mb.b2.dw:64x28x28-64k3s2p1g64",
    "mb.b2.pw:64x14x14-128k1s1p0",
    "mb.b3.dw:128x14x14-128k3s1p1g128",
    "mb.b3.pw:128x14x14-128k1s1p0",
    "mb.b4.dw:128x14x14-128k3s2p1g128",
    "mb.b4.pw:128x7x7-256k1s1p0",
    "mb.b5.dw:256x7x7-256k3s1p1g256",
    "mb.b5.pw:256x7x7-256k1s1p0"
  })
  public String conv;

  /** {@link Conv2d.Algorithm} name, lower case. */
  @Param({"im2col", "implicit_gemm", "spatial_pack", "depthwise", "winograd"})
  public String algorithm;

  /** {@link Layout} name, lower case. */
  @Param({"nchw", "nhwc", "nchwc"})
  public String layout;

  /** Kernel threads ({@link Parallel#setThreads}). */
  @Param({"1"})
  public int threads;

  private Conv2d layer;
  private Tensor x;
  private Tensor y;
  private Tensor dy;
  private Tensor dx;
  private Tensor[] in;
  private Tensor[] gradIn;
  private final Tensor[] noGrad = new Tensor[1];

  @Setup(Level.Trial)
  public void setUp() {
    ConvGeometry g = ConvLayerShape.parse(conv).geometry();
    Conv2d.Algorithm a = Conv2d.Algorithm.valueOf(algorithm.toUpperCase(Locale.ROOT));
    Layout l = Layout.valueOf(layout.toUpperCase(Locale.ROOT));
    if (!Conv2d.supports(a, l, g)) {
      // JMH has no per-parameter skip: a failing setup ends only this configuration.
      throw new UnsupportedOperationException(a + " does not run in " + l + " for " + conv);
    }
    Parallel.setThreads(threads);
    Gemm.setVariant(Gemm.Variant.VECTOR);
    layer = new Conv2d("conv", g, true);
    layer.setAlgorithm(a);
    layer.initialize(io.dlsql.executor.layer.InitScheme.DEFAULT, new Rng(1));
    x = random(l, new Rng(2), BATCH, g.inChannels(), g.inHeight(), g.inWidth());
    dy = random(l, new Rng(3), BATCH, g.outChannels(), g.outHeight(), g.outWidth());
    y = Tensor.zeros(l, BATCH, g.outChannels(), g.outHeight(), g.outWidth());
    dx = Tensor.zeros(l, x.shape());
    in = new Tensor[] {x};
    gradIn = new Tensor[] {dx};
    layer.forward(in, y, true);
  }

  private static Tensor random(Layout layout, Rng rng, int... shape) {
    try (Tensor t = Tensor.zeros(shape)) {
      for (long i = 0; i < t.numel(); i++) {
        t.setFlat(i, (float) rng.uniform(-1, 1));
      }
      Tensor out = Tensor.zeros(layout, shape);
      LayoutConversion.convert(t, out);
      return out;
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (layer == null) {
      return;
    }
    layer.close();
    x.close();
    y.close();
    dy.close();
    dx.close();
  }

  @Benchmark
  public void forward() {
    layer.forward(in, y, true);
  }

  /** The weight and bias gradients only. */
  @Benchmark
  public void backwardWeights() {
    layer.backward(in, y, dy, noGrad);
  }

  /** Weight, bias and input gradients. */
  @Benchmark
  public void backwardAll() {
    layer.backward(in, y, dy, gradIn);
  }
}
