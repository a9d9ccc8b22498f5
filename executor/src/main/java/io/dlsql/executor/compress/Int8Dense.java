package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An int8 fully connected layer for inference, {@code y = rescale(quantize(x) * Wq^T) + b}: the
 * batch (N, F) is quantized with the calibrated input scale and multiplied by the int8 weights,
 * stored transposed (F, U) so one GEMM row of output is a row of the batch, with int32
 * accumulation; each column u is then rescaled by {@code inputScale * weightScale[u]}. Rows of the
 * batch are split across threads.
 */
final class Int8Dense implements GraphExecutor.NodeKernel {
  private static final int MIN_ROWS_PER_CHUNK = 8;

  private final int features;
  private final int units;
  private final Arena arena = Arena.ofShared();
  /** Weights transposed: (F, U) int8. */
  private final MemorySegment weightsT;
  private final float[] multipliers;
  private final float[] bias;
  private final float inverseInputScale;
  private Int8Gemm.Variant variant = Int8Gemm.defaultVariant();
  private int capacity;
  private MemorySegment quantized;
  private MemorySegment acc;

  Int8Dense(int features, Int8Quantizer.ChannelQuantized w, float[] bias, float inputScale) {
    if (w.columns() != features) {
      throw new IllegalStateException("int8 weights of " + w.columns() + " features for " + features);
    }
    this.features = features;
    this.units = w.rows();
    this.weightsT = arena.allocate((long) features * units, Long.BYTES);
    for (int u = 0; u < units; u++) {
      for (int f = 0; f < features; f++) {
        weightsT.set(ValueLayout.JAVA_BYTE, (long) f * units + u, w.codes()[u * features + f]);
      }
    }
    this.multipliers = new float[units];
    for (int u = 0; u < units; u++) {
      multipliers[u] = inputScale * w.scales()[u];
    }
    this.bias = bias == null ? new float[units] : bias.clone();
    this.inverseInputScale = 1f / inputScale;
  }

  void setVariant(Int8Gemm.Variant variant) {
    this.variant = variant;
  }

  // x: (N, F) fp32 -> y: (N, U) fp32 = rescale(quantize(x) Wq^T) + b
  @Override
  public void forward(Tensor[] inputs, Tensor output) {
    Tensor x = inputs[0];
    int n = x.dim(0);
    if (n > capacity) {
      // Workspaces grow with the batch and live as long as the layer (the arena frees them).
      quantized = arena.allocate((long) n * features, Long.BYTES);
      acc = arena.allocate((long) n * units * Integer.BYTES, Long.BYTES);
      capacity = n;
    }
    MemorySegment xs = x.segment();
    MemorySegment ys = output.segment();
    MemorySegment q = quantized;
    MemorySegment a = acc;
    Parallel.get().forRange(n, MIN_ROWS_PER_CHUNK, (chunk, from, to) -> {
      long rows = to - from;
      Int8Quantizer.quantize(xs, (long) from * features, q, (long) from * features, rows * features,
          inverseInputScale);
      Int8Gemm.multiply(variant, to - from, units, features, q, (long) from * features, features,
          weightsT, 0, units, a, (long) from * units, units);
      Requantization.perColumn(a.asSlice((long) from * units * Integer.BYTES), to - from, units,
          multipliers, bias, ys, (long) from * units);
    });
  }

  /** Bytes the model stores for this layer: int8 weights, a scale and a bias per unit, the input scale. */
  long storedBytes() {
    return weightsT.byteSize() + 2L * Float.BYTES * units + Float.BYTES;
  }

  @Override
  public void close() {
    arena.close();
  }
}
