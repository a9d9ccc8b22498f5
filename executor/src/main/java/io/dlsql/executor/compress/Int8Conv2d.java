package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.conv.Im2colConv2d;
import io.dlsql.executor.kernel.conv.ImplicitGemmConv2d;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An int8 convolution for inference, with its epilogue (ReLU, max pooling) fused in: per block of
 * images, the fp32 input is quantized with the calibrated input scale, multiplied by the int8
 * weights with exact integer accumulation, and the integer sums are rescaled per output channel by
 * {@code inputScale * weightScale[o]} with the (folded) bias added ({@link Epilogue}), then
 * optionally passed through ReLU and max-pooled while the block is still in cache. Images are
 * split across threads, each with its own workspaces.
 *
 * <p>Two lowerings compute the same integers:
 *
 * <ul>
 *   <li>{@link Lowering#FP32_CODES} (the default where it applies): weights and quantized inputs
 *       are held as fp32 numbers with integer values (the int8 codes), and the fp32 convolution
 *       kernels (implicit GEMM for stride 1, im2col + GEMM otherwise) multiply them. Every partial
 *       sum is an integer of magnitude below {@code K * 127^2 < 2^24} when the reduction length
 *       {@code K = C/groups * KH * KW} is at most {@link Int8Gemm#EXACT_K}, so the fp32 sums are
 *       exact whatever the summation order: int8 arithmetic on the FMA units, which on this
 *       machine's Vector API are the fastest integer multiply-adders (see {@link Int8Gemm}). With
 *       implicit GEMM the quantization runs inside its padding pass and, without pooling, the
 *       rescale (+ residual, ReLU) inside its store ({@link ImplicitGemmConv2d#forwardInt8}), so the
 *       layer makes the same passes over memory as the fp32 convolution.
 *   <li>{@link Lowering#BYTES}: the input quantized to bytes, lowered by {@link Int8Im2col}
 *       (skipped for pointwise convolutions) and multiplied by {@link Int8Gemm} with int32 sums,
 *       one GEMM per group. Used for longer reductions, grouped convolutions, and whenever a GEMM
 *       variant other than {@link Int8Gemm.Variant#FP32_EXACT} is asked for (the reference
 *       oracle).
 * </ul>
 */
final class Int8Conv2d implements GraphExecutor.NodeKernel {
  private static final int MIN_IMAGES_PER_CHUNK = 1;
  /** Images per block at most: the fp32 kernels batch small feature maps. */
  private static final int MAX_IMAGES_PER_BLOCK = 32;

  /** How the integer products are computed; both give the same integers. */
  enum Lowering {
    /** Integer-valued fp32 operands through the fp32 convolution kernels (exact, see the class comment). */
    FP32_CODES,
    /** int8 operands through {@link Int8Gemm}, int32 sums. */
    BYTES
  }

  /**
   * Max pooling fused after the rescale (and ReLU): the window, its stride and padding (padded
   * positions never win), and the pooled size.
   */
  record MaxPool(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, int outH, int outW) {}

  /**
   * What the kernel does to the rescaled sums before they leave: add a residual (a second input of
   * the output's shape, as the ADD of a residual block), ReLU, then max pooling (null for none).
   * {@link #NONE} writes the rescaled sums as they are.
   */
  record Epilogue(boolean residual, boolean relu, MaxPool pool) {
    static final Epilogue NONE = new Epilogue(false, false, null);

    Epilogue(boolean relu, MaxPool pool) {
      this(false, relu, pool);
    }

    Epilogue {
      if (residual && pool != null) {
        throw new IllegalStateException("a residual epilogue does not pool");
      }
    }
  }

  private final ConvGeometry g;
  private final Epilogue epilogue;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment weights;
  private final float[] multipliers;
  private final float[] bias;
  private final float inverseInputScale;
  /** Whether every multiplier is non-negative (always, for scales from calibration), so pooling commutes with the rescale. */
  private final boolean poolBeforeRescale;
  /** Whether the fp32-codes lowering can compute this geometry exactly (K <= EXACT_K, one group). */
  private final boolean fp32CodesApplies;
  /** The fp32-codes lowering's algorithm: implicit GEMM (stride 1) or else im2col + GEMM. */
  private final boolean implicitGemm;
  /** Weight codes as fp32, packed for the implicit GEMM (null otherwise). */
  private final float[] packedCodes;
  /** Weight codes as fp32, (OC, K) row-major for im2col + GEMM (null otherwise). */
  private final MemorySegment codesSegment;
  private final int imagesPerBlock;
  /** The implicit GEMM's int8 prologue (quantize while padding) with the integer sums stored as they are. */
  private final ImplicitGemmConv2d.Int8Io rawSums;
  private Int8Gemm.Variant variant = Int8Gemm.defaultVariant();
  private Workspace[] workspaces = new Workspace[0];

  /**
   * Per chunk: the block's quantized images (fp32 codes, or bytes with their im2col matrix), the
   * block's integer sums (OC, OH, OW) as fp32, the int32 sums of one group, the im2col lowering's
   * scratch, and the pooling's rows.
   */
  private record Workspace(
      MemorySegment codes, MemorySegment image, MemorySegment col, MemorySegment ints, MemorySegment sums,
      MemorySegment gemm, MemorySegment poolRows) {}

  Int8Conv2d(ConvGeometry g, Int8Quantizer.ChannelQuantized w, float[] bias, float inputScale) {
    this(g, w, bias, inputScale, Epilogue.NONE);
  }

  Int8Conv2d(ConvGeometry g, Int8Quantizer.ChannelQuantized w, float[] bias, float inputScale, Epilogue epilogue) {
    if (w.rows() != g.outChannels() || w.columns() != g.colRows()) {
      throw new IllegalStateException("int8 weights " + w.rows() + "x" + w.columns() + " do not fit " + g);
    }
    this.g = g;
    this.epilogue = epilogue;
    this.weights = arena.allocate(w.codes().length, Long.BYTES);
    MemorySegment.copy(w.codes(), 0, weights, ValueLayout.JAVA_BYTE, 0, w.codes().length);
    this.multipliers = new float[g.outChannels()];
    for (int o = 0; o < multipliers.length; o++) {
      multipliers[o] = inputScale * w.scales()[o];
    }
    this.bias = bias == null ? new float[g.outChannels()] : bias.clone();
    this.inverseInputScale = 1f / inputScale;
    this.rawSums = new ImplicitGemmConv2d.Int8Io(inverseInputScale, null, null, null, false);
    boolean nonNegative = true;
    for (float m : multipliers) {
      nonNegative &= m >= 0f;
    }
    this.poolBeforeRescale = nonNegative;
    this.fp32CodesApplies = g.colRows() <= Int8Gemm.EXACT_K && g.groups() == 1;
    this.implicitGemm = fp32CodesApplies && ImplicitGemmConv2d.supports(g);
    float[] codes = new float[w.codes().length];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = w.codes()[i];
    }
    if (implicitGemm) {
      packedCodes = new float[ImplicitGemmConv2d.packedWeightsSize(g)];
      ImplicitGemmConv2d.packWeights(g, MemorySegment.ofArray(codes), packedCodes);
      codesSegment = null;
    } else {
      packedCodes = null;
      codesSegment = fp32CodesApplies ? arena.allocate((long) codes.length * Float.BYTES, Long.BYTES) : null;
      if (codesSegment != null) {
        MemorySegment.copy(codes, 0, codesSegment, ValueLayout.JAVA_FLOAT, 0, codes.length);
      }
    }
    // Small feature maps go to the fp32 kernels several images at a time: im2col puts them side by
    // side in one GEMM, implicit GEMM stacks them into one tall image; per-image calls would make
    // thin GEMMs (and, for the stacked layout, re-lay its buffers on every call).
    this.imagesPerBlock = Math.min(Im2colConv2d.imagesPerGemm(g), MAX_IMAGES_PER_BLOCK);
    if (epilogue.pool() != null && (epilogue.pool().strideH() <= 0 || epilogue.pool().strideW() <= 0)) {
      throw new IllegalStateException("pooling strides must be positive: " + epilogue.pool());
    }
  }

  void setVariant(Int8Gemm.Variant variant) {
    this.variant = variant;
  }

  /** What computes this layer now, as EXPLAIN names it. */
  String algorithm() {
    if (lowering() == Lowering.FP32_CODES) {
      return (implicitGemm ? "implicit_gemm" : "im2col") + " on int8 codes in fp32 (exact)";
    }
    return (g.isPointwise() ? "" : "int8 im2col + ") + "int8 gemm (" + variant.name().toLowerCase(java.util.Locale.ROOT) + ")";
  }

  /** The lowering that runs with the current GEMM variant. */
  Lowering lowering() {
    return fp32CodesApplies && variant == Int8Gemm.Variant.FP32_EXACT ? Lowering.FP32_CODES : Lowering.BYTES;
  }

  private Workspace workspace(int chunk) {
    if (chunk >= workspaces.length) {
      Workspace[] grown = Arrays.copyOf(workspaces, chunk + 1);
      for (int c = workspaces.length; c <= chunk; c++) {
        long block = imagesPerBlock;
        long colBytes = g.isPointwise() ? 1 : (long) g.inChannels() * g.kernelH() * g.kernelW() * g.outPixels();
        grown[c] = new Workspace(
            fp32CodesApplies && !implicitGemm ? floats(block * g.inputSize()) : floats(1),
            arena.allocate(g.inputSize(), Long.BYTES),
            arena.allocate(colBytes, Long.BYTES),
            arena.allocate((long) g.outChannelsPerGroup() * g.outPixels() * Integer.BYTES, Long.BYTES),
            floats(block * g.outputSize()),
            fp32CodesApplies && !implicitGemm ? floats(Im2colConv2d.workspaceSize(g)) : floats(1),
            floats(epilogue.pool() == null ? 1 : g.outputSize() / 2 + 1));
      }
      workspaces = grown;
    }
    return workspaces[chunk];
  }

  private MemorySegment floats(long count) {
    return arena.allocate(count * Float.BYTES, Long.BYTES);
  }

  /** The shape this kernel writes per image: the convolution's, or the pooled one. */
  long outputSizePerImage() {
    MaxPool p = epilogue.pool();
    return p == null ? g.outputSize() : (long) g.outChannels() * p.outH() * p.outW();
  }

  // x: (N, C, H, W) fp32 [, r: (N, OC, OH, OW)] -> y = pool(relu(rescale(Wq * quantize(x)) + b [+ r])): (N, OC, OH', OW')
  @Override
  public void forward(Tensor[] inputs, Tensor output) {
    Tensor x = inputs[0];
    int n = x.dim(0);
    if (output.numel() != n * outputSizePerImage()) {
      throw new IllegalStateException("int8 convolution output " + Arrays.toString(output.shape()) + " for " + g);
    }
    Parallel pool = Parallel.get();
    int chunks = pool.chunks(n, MIN_IMAGES_PER_CHUNK);
    if (chunks > 0) {
      workspace(chunks - 1);
    }
    MemorySegment xs = x.segment();
    MemorySegment ys = output.segment();
    MemorySegment rs = null;
    if (epilogue.residual()) {
      if (inputs.length != 2 || inputs[1].numel() != output.numel()) {
        throw new IllegalStateException("a residual epilogue needs a second input of the output's shape");
      }
      rs = inputs[1].segment();
    }
    MemorySegment residual = rs;
    Lowering lowering = lowering();
    if (lowering == Lowering.FP32_CODES && implicitGemm && epilogue.pool() == null) {
      // The whole layer in the implicit GEMM's passes, as the fp32 convolution runs: quantized while
      // padded, rescaled (+ residual, ReLU) while stored; no block of sums in between.
      ImplicitGemmConv2d.Int8Io io =
          new ImplicitGemmConv2d.Int8Io(inverseInputScale, multipliers, bias, residual, epilogue.relu());
      long inSize = g.inputSize();
      long outSize = g.outputSize();
      pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) ->
          ImplicitGemmConv2d.forwardInt8(g, to - from, xs, from * inSize, packedCodes, io, ys, from * outSize));
      return;
    }
    pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
      Workspace ws = workspaces[chunk];
      for (int first = from; first < to; first += imagesPerBlock) {
        int count = Math.min(imagesPerBlock, to - first);
        if (lowering == Lowering.FP32_CODES) {
          sumsAsFloatCodes(xs, first, count, ws);
        } else {
          for (int i = 0; i < count; i++) {
            sumsAsBytes(xs, first + i, ws, i * g.outputSize());
          }
        }
        for (int i = 0; i < count; i++) {
          finish(ws.sums(), i * g.outputSize(), ws.poolRows(), residual, ys, (first + i) * outputSizePerImage());
        }
      }
    });
  }

  /** Integer sums of {@code count} images from {@code first}, as exact fp32 numbers, into {@code ws.sums}. */
  private void sumsAsFloatCodes(MemorySegment xs, int first, int count, Workspace ws) {
    long inSize = g.inputSize();
    if (implicitGemm) {
      ImplicitGemmConv2d.forwardInt8(g, count, xs, first * inSize, packedCodes, rawSums,
          ws.sums(), 0);
    } else {
      Int8Quantizer.quantizeToCodes(xs, first * inSize, ws.codes(), 0, count * inSize, inverseInputScale);
      Im2colConv2d.forward(g, count, ws.codes(), 0, codesSegment, null, FusedActivation.IDENTITY, ws.gemm(),
          ws.sums(), 0);
    }
  }

  /** Integer sums of one image through bytes and {@link Int8Gemm}, converted to fp32 into {@code ws.sums}. */
  private void sumsAsBytes(MemorySegment xs, int img, Workspace ws, long sumsOff) {
    Int8Quantizer.quantize(xs, img * g.inputSize(), ws.image(), 0, g.inputSize(), inverseInputScale);
    MemorySegment col = ws.col();
    if (g.isPointwise()) {
      col = ws.image();
    } else {
      Int8Im2col.im2col(g, ws.image(), 0, col, 0);
    }
    int pixels = g.outPixels();
    int rowsPerGroup = g.colRows();
    int ocPerGroup = g.outChannelsPerGroup();
    for (int group = 0; group < g.groups(); group++) {
      Int8Gemm.multiply(variant, ocPerGroup, pixels, rowsPerGroup,
          weights, (long) group * ocPerGroup * rowsPerGroup, rowsPerGroup,
          col, (long) group * rowsPerGroup * pixels, pixels,
          ws.ints(), 0, pixels);
      Requantization.toFloat(ws.ints(), (long) ocPerGroup * pixels, ws.sums(),
          sumsOff + (long) group * ocPerGroup * pixels);
    }
  }

  /** Rescale, bias, ReLU and pooling of one image's sums at {@code sumsOff}, written to y at {@code yOff}. */
  private void finish(MemorySegment sums, long sumsOff, MemorySegment scratch, MemorySegment residual,
      MemorySegment y, long yOff) {
    MaxPool p = epilogue.pool();
    if (p == null) {
      Requantization.perRow(sums, sumsOff, g.outChannels(), g.outPixels(), multipliers, bias, 0, residual, yOff,
          epilogue.relu(), y, yOff);
      return;
    }
    if (!poolBeforeRescale) {
      Requantization.perRow(sums, sumsOff, g.outChannels(), g.outPixels(), multipliers, bias, 0, null, 0,
          epilogue.relu(), sums, sumsOff);
      MaxPooling.forward(sums, sumsOff, g.outChannels(), g.outHeight(), g.outWidth(), p, y, yOff, scratch);
      return;
    }
    // Pool the integer sums first, then rescale only the pooled values: y = m * acc + b (then ReLU)
    // is non-decreasing in acc because m = inputScale * weightScale > 0, and a correctly rounded
    // fused multiply-add keeps that order, so the maximum of the rescaled values is the rescaled
    // maximum, bit for bit, at a quarter of the rescaling work for 2x2 windows.
    MaxPooling.forward(sums, sumsOff, g.outChannels(), g.outHeight(), g.outWidth(), p, y, yOff, scratch);
    Requantization.perRow(y, yOff, g.outChannels(), p.outH() * p.outW(), multipliers, bias, 0, null, 0,
        epilogue.relu(), y, yOff);
  }

  /** Bytes of what the model stores for this layer: int8 weights, one scale and one bias per channel, the input scale. */
  long storedBytes() {
    return weights.byteSize() + 2L * Float.BYTES * g.outChannels() + Float.BYTES;
  }

  @Override
  public void close() {
    arena.close();
  }
}
