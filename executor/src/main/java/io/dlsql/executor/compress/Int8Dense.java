package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An int8 fully connected layer for inference, {@code y = act(rescale(quantize(x) * Wq^T) + b)}:
 * the batch (N, F) is quantized with the calibrated input scale and multiplied by the int8
 * weights, stored transposed (F, U) so one GEMM row of output is a row of the batch, with exact
 * integer sums; each column u is then rescaled by {@code inputScale * weightScale[u]}, the bias
 * added and, when a ReLU follows, applied in the same pass. Rows of the batch are split across
 * threads.
 *
 * <p>With {@link Int8Gemm.Variant#FP32_EXACT} (the default) the codes are held as integer-valued
 * fp32 numbers and multiplied by the fp32 GEMM in k-blocks of at most {@link Int8Gemm#EXACT_K}
 * features, each block's sums exact (see {@link Int8Gemm}); with one block the sums go straight
 * to the rescale, with more they are added in int32 first. The weights are widened once, when the
 * layer is built (stored models keep bytes). Other variants run {@link Int8Gemm} on bytes.
 */
final class Int8Dense implements GraphExecutor.NodeKernel {
  private static final int MIN_ROWS_PER_CHUNK = 8;

  private final int features;
  private final int units;
  private final boolean relu;
  private final Arena arena = Arena.ofShared();
  /** Weights transposed: (F, U) int8. */
  private final MemorySegment weightsT;
  /** The same codes as fp32 numbers, (F, U). */
  private final MemorySegment codesT;
  private final float[] multipliers;
  private final float[] bias;
  private final float inverseInputScale;
  /**
   * Whether one fp32 GEMM over all features is exact: every partial sum of row u is bounded by
   * {@code 127 * sum_f |code[u][f]|} whatever the order, and that bound is at most 2^24 for every
   * row (trained weights: the codes average far below 127, so long layers usually qualify).
   */
  private final boolean oneExactBlock;
  private Int8Gemm.Variant variant = Int8Gemm.defaultVariant();
  private int capacity;
  private MemorySegment quantized;
  private MemorySegment codes;
  private MemorySegment ints;
  private MemorySegment sums;

  Int8Dense(int features, Int8Quantizer.ChannelQuantized w, float[] bias, float inputScale) {
    this(features, w, bias, inputScale, false);
  }

  Int8Dense(int features, Int8Quantizer.ChannelQuantized w, float[] bias, float inputScale, boolean relu) {
    if (w.columns() != features) {
      throw new IllegalStateException("int8 weights of " + w.columns() + " features for " + features);
    }
    this.features = features;
    this.units = w.rows();
    this.relu = relu;
    this.weightsT = arena.allocate((long) features * units, Long.BYTES);
    this.codesT = arena.allocate((long) features * units * Float.BYTES, Long.BYTES);
    for (int u = 0; u < units; u++) {
      for (int f = 0; f < features; f++) {
        byte code = w.codes()[u * features + f];
        weightsT.set(ValueLayout.JAVA_BYTE, (long) f * units + u, code);
        codesT.setAtIndex(ValueLayout.JAVA_FLOAT, (long) f * units + u, code);
      }
    }
    this.multipliers = new float[units];
    for (int u = 0; u < units; u++) {
      multipliers[u] = inputScale * w.scales()[u];
    }
    this.bias = bias == null ? new float[units] : bias.clone();
    this.inverseInputScale = 1f / inputScale;
    long largestRowSum = 0;
    for (int u = 0; u < units; u++) {
      long rowSum = 0;
      for (int f = 0; f < features; f++) {
        rowSum += Math.abs(w.codes()[u * features + f]);
      }
      largestRowSum = Math.max(largestRowSum, rowSum);
    }
    this.oneExactBlock = features <= Int8Gemm.EXACT_K || largestRowSum * Int8Gemm.MAX_MAGNITUDE <= Int8Gemm.EXACT_SUM;
  }

  /** Whether the fp32-codes lowering multiplies all features in one exact GEMM (tests check both cases). */
  boolean oneExactBlock() {
    return oneExactBlock;
  }

  /** What computes this layer now, as EXPLAIN names it. */
  String algorithm() {
    if (variant != Int8Gemm.Variant.FP32_EXACT) {
      return "int8 gemm (" + variant.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }
    return oneExactBlock ? "gemm on int8 codes in fp32 (exact)" : "gemm on int8 codes in fp32, exact k-blocks summed in int32";
  }

  void setVariant(Int8Gemm.Variant variant) {
    this.variant = variant;
  }

  // x: (N, F) fp32 -> y: (N, U) fp32 = act(rescale(quantize(x) Wq^T) + b)
  @Override
  public void forward(Tensor[] inputs, Tensor output) {
    Tensor x = inputs[0];
    int n = x.dim(0);
    if (n > capacity) {
      // Workspaces grow with the batch and live as long as the layer (the arena frees them).
      quantized = arena.allocate((long) n * features, Long.BYTES);
      codes = arena.allocate((long) n * features * Float.BYTES, Long.BYTES);
      ints = arena.allocate((long) n * units * Integer.BYTES, Long.BYTES);
      sums = arena.allocate((long) n * units * Float.BYTES, Long.BYTES);
      capacity = n;
    }
    MemorySegment xs = x.segment();
    MemorySegment ys = output.segment();
    boolean floatCodes = variant == Int8Gemm.Variant.FP32_EXACT;
    Parallel.get().forRange(n, MIN_ROWS_PER_CHUNK, (chunk, from, to) -> {
      int rows = to - from;
      long xAt = (long) from * features;
      long yAt = (long) from * units;
      if (floatCodes) {
        Int8Quantizer.quantizeToCodes(xs, xAt, codes, xAt, (long) rows * features, inverseInputScale);
        multiplyCodes(rows, xAt, yAt);
      } else {
        Int8Quantizer.quantize(xs, xAt, quantized, xAt, (long) rows * features, inverseInputScale);
        Int8Gemm.multiply(variant, rows, units, features, quantized, xAt, features, weightsT, 0, units,
            ints, yAt, units);
        Requantization.toFloat(ints.asSlice(yAt * Integer.BYTES), (long) rows * units, sums, yAt);
      }
      Requantization.perColumn(sums, yAt, rows, units, multipliers, bias, relu, ys, yAt);
    });
  }

  /** sums[rows x U] at {@code yAt} = codes[rows x F] at {@code xAt} * codesT, exactly, block by block. */
  private void multiplyCodes(int rows, long xAt, long yAt) {
    if (oneExactBlock) {
      Gemm.sgemm(false, false, rows, units, features, 1f, codes, xAt, features, codesT, 0, units, 0f, sums, yAt,
          units);
      return;
    }
    MemorySegment acc = ints.asSlice(yAt * Integer.BYTES, (long) rows * units * Integer.BYTES);
    for (int p0 = 0; p0 < features; p0 += Int8Gemm.EXACT_K) {
      int kb = Math.min(Int8Gemm.EXACT_K, features - p0);
      Gemm.sgemm(false, false, rows, units, kb, 1f, codes, xAt + p0, features, codesT, (long) p0 * units, units,
          0f, sums, yAt, units);
      Int8Gemm.addExactSums(sums, yAt, acc, (long) rows * units, p0 == 0);
    }
    Requantization.toFloat(acc, (long) rows * units, sums, yAt);
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
