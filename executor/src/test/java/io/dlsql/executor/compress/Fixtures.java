package io.dlsql.executor.compress;

import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.NetworkSpecBuilder;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.InMemoryDataset;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Shared test data: small specs, random weights and inputs, a learnable synthetic dataset. */
final class Fixtures {
  private Fixtures() {}

  /** conv(4, 3x3) relu maxpool conv(6, 3x3) relu flatten dense(8) relu dense(4) on (2, 8, 8). */
  static NetworkSpec smallConvnet() {
    return new NetworkSpecBuilder().input("image", new int[] {2, 8, 8})
        .layer("CONV2D", List.of(4), Map.of("KERNEL", 3, "PADDING", 1), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("MAXPOOL", List.of(2), Map.of(), null)
        .layer("CONV2D", List.of(6), Map.of("KERNEL", 3, "PADDING", 1), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(8), Map.of(), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("DENSE", List.of(4), Map.of(), null)
        .build(4);
  }

  /** ResNet-8 of width 4 on (1, 8, 8): batchnorms, 1x1 shortcuts, residual adds. */
  static NetworkSpec tinyResnet() {
    return Architectures.build("resnet", Map.of("depth", 8, "width", 4), new int[] {1, 8, 8}, 4);
  }

  /** The weights of a network built from {@code spec} with {@code seed}, batchnorm statistics made non-trivial. */
  static LinkedHashMap<String, float[]> weights(NetworkSpec spec, long seed) {
    try (Network net = Network.build(spec, seed)) {
      LinkedHashMap<String, float[]> w = net.stateDict();
      Rng rng = new Rng(seed + 1);
      w.forEach((k, v) -> {
        if (k.endsWith("running_var")) {
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.uniform(0.5, 2);
          }
        } else if (k.endsWith("running_mean") || (isBatchNorm(spec, k) && k.endsWith(".bias"))) {
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.uniform(-0.3, 0.3);
          }
        } else if (isBatchNorm(spec, k) && k.endsWith(".weight")) {
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.uniform(0.5, 1.5);
          }
        }
      });
      return w;
    }
  }

  private static boolean isBatchNorm(NetworkSpec spec, String key) {
    String node = key.substring(0, key.lastIndexOf('.'));
    return spec.nodes().stream().anyMatch(n -> n.name().equals(node)
        && n.op() == io.dlsql.executor.graph.Op.BATCHNORM2D);
  }

  static Tensor randomInput(int n, int[] shape, long seed) {
    Rng rng = new Rng(seed);
    int[] s = Inference.batched(n, shape);
    Tensor x = Tensor.zeros(s);
    for (long i = 0; i < x.numel(); i++) {
      x.setFlat(i, (float) rng.uniform(-1, 1));
    }
    return x;
  }

  /** n float32 samples of {@code shape} uniform in [-1, 1], labels in [0, classes). */
  static InMemoryDataset randomDataset(int n, int[] shape, int classes, long seed) {
    Rng rng = new Rng(seed);
    long size = GraphExecutor.numel(shape);
    MemorySegment data = Arena.ofAuto().allocate(n * size * Float.BYTES);
    for (long i = 0; i < n * size; i++) {
      data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) rng.uniform(-1, 1));
    }
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = rng.nextInt(classes);
    }
    return InMemoryDataset.ofFloat32(data, n, shape, labels);
  }

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
    return InMemoryDataset.ofUint8(pixels, n, new int[] {channels, size, size}, labels,
        InMemoryDataset.UINT8_TO_UNIT);
  }

  static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  static double maxAbsDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}
