package io.dlsql.executor.compress;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An int8 convolution for inference: per image, the fp32 input is quantized with the calibrated
 * input scale, lowered by {@link Int8Im2col} (skipped for pointwise convolutions), multiplied by
 * the int8 weights with int32 accumulation ({@link Int8Gemm}, one GEMM per group), and the int32
 * sums are rescaled per output channel by {@code inputScale * weightScale[o]} with the (folded)
 * bias added ({@link Requantization}). Images are split across threads, each with its own
 * workspaces.
 */
final class Int8Conv2d implements GraphExecutor.NodeKernel {
  private static final int MIN_IMAGES_PER_CHUNK = 1;

  private final ConvGeometry g;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment weights;
  private final float[] multipliers;
  private final float[] bias;
  private final float inverseInputScale;
  private Int8Gemm.Variant variant = Int8Gemm.defaultVariant();
  private Workspace[] workspaces = new Workspace[0];

  /** Per chunk: the quantized image, its im2col matrix and the int32 products of one group. */
  private record Workspace(MemorySegment image, MemorySegment col, MemorySegment acc) {}

  Int8Conv2d(ConvGeometry g, Int8Quantizer.ChannelQuantized w, float[] bias, float inputScale) {
    if (w.rows() != g.outChannels() || w.columns() != g.colRows()) {
      throw new IllegalStateException("int8 weights " + w.rows() + "x" + w.columns() + " do not fit " + g);
    }
    this.g = g;
    this.weights = arena.allocate(w.codes().length, Long.BYTES);
    MemorySegment.copy(w.codes(), 0, weights, ValueLayout.JAVA_BYTE, 0, w.codes().length);
    this.multipliers = new float[g.outChannels()];
    for (int o = 0; o < multipliers.length; o++) {
      multipliers[o] = inputScale * w.scales()[o];
    }
    this.bias = bias == null ? new float[g.outChannels()] : bias.clone();
    this.inverseInputScale = 1f / inputScale;
  }

  void setVariant(Int8Gemm.Variant variant) {
    this.variant = variant;
  }

  private Workspace workspace(int chunk) {
    if (chunk >= workspaces.length) {
      Workspace[] grown = java.util.Arrays.copyOf(workspaces, chunk + 1);
      for (int c = workspaces.length; c <= chunk; c++) {
        long colBytes = g.isPointwise() ? 1 : (long) g.inChannels() * g.kernelH() * g.kernelW() * g.outPixels();
        grown[c] = new Workspace(arena.allocate(g.inputSize(), Long.BYTES), arena.allocate(colBytes, Long.BYTES),
            arena.allocate((long) g.outChannelsPerGroup() * g.outPixels() * Integer.BYTES, Long.BYTES));
      }
      workspaces = grown;
    }
    return workspaces[chunk];
  }

  // x: (N, C, H, W) fp32 -> y: (N, OC, OH, OW) fp32 = rescale(Wq * col(quantize(x))) + b
  @Override
  public void forward(Tensor[] inputs, Tensor output) {
    Tensor x = inputs[0];
    int n = x.dim(0);
    Parallel pool = Parallel.get();
    int chunks = pool.chunks(n, MIN_IMAGES_PER_CHUNK);
    if (chunks > 0) {
      workspace(chunks - 1);
    }
    MemorySegment xs = x.segment();
    MemorySegment ys = output.segment();
    long inSize = g.inputSize();
    long outSize = g.outputSize();
    int pixels = g.outPixels();
    int rowsPerGroup = g.colRows();
    int ocPerGroup = g.outChannelsPerGroup();
    pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
      Workspace ws = workspaces[chunk];
      for (int img = from; img < to; img++) {
        Int8Quantizer.quantize(xs, img * inSize, ws.image(), 0, inSize, inverseInputScale);
        MemorySegment col = ws.col();
        if (g.isPointwise()) {
          col = ws.image();
        } else {
          Int8Im2col.im2col(g, ws.image(), 0, col, 0);
        }
        for (int group = 0; group < g.groups(); group++) {
          Int8Gemm.multiply(variant, ocPerGroup, pixels, rowsPerGroup,
              weights, (long) group * ocPerGroup * rowsPerGroup, rowsPerGroup,
              col, (long) group * rowsPerGroup * pixels, pixels,
              ws.acc(), 0, pixels);
          Requantization.perRow(ws.acc(), ocPerGroup, pixels, multipliers, bias, group * ocPerGroup,
              ys, img * outSize + (long) group * ocPerGroup * pixels);
        }
      }
    });
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
