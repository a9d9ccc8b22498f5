package io.dlsql.executor.layer;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.conv.DepthwiseConv2d;
import io.dlsql.executor.kernel.conv.DirectConv2d;
import io.dlsql.executor.kernel.conv.Im2colConv2d;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * 2-D convolution (grouped and depthwise included). The default algorithm is im2col + GEMM
 * ({@link Algorithm#DEPTHWISE} for depthwise geometries) with images split across threads, each
 * thread with its own im2col buffer and (in backward) its own partial weight gradient, summed in
 * chunk order so results do not depend on timing. {@link Algorithm#DIRECT} is the plain
 * reference.
 */
public final class Conv2d extends Layer {
  /** Convolution algorithm: alternative lowerings of the same operator. */
  public enum Algorithm {
    /** Variant 0: plain loops, single-threaded. */
    DIRECT,
    /** im2col + GEMM per image, images in parallel. */
    IM2COL,
    /** Direct per-channel loops for depthwise convolutions (groups == input channels), images in parallel. */
    DEPTHWISE
  }

  /** Whether {@code algorithm} can compute {@code geometry}. */
  public static boolean supports(Algorithm algorithm, ConvGeometry geometry) {
    return algorithm != Algorithm.DEPTHWISE || DepthwiseConv2d.supports(geometry);
  }

  /** Images per chunk at least, so a chunk's work outweighs handing it to a thread. */
  private static final int MIN_IMAGES_PER_CHUNK = 1;

  private final ConvGeometry geometry;
  private final Tensor weight;
  private final Tensor weightGrad;
  private final Tensor bias;
  private final Tensor biasGrad;
  private Algorithm algorithm;

  /** Per chunk: im2col buffer, partial weight and bias gradients (chunk 0 writes the final ones). */
  private Tensor[] cols = new Tensor[0];
  private Tensor[] partialWeightGrads = new Tensor[0];
  private Tensor[] partialBiasGrads = new Tensor[0];

  public Conv2d(String name, ConvGeometry geometry, boolean hasBias) {
    super(name, new int[] {geometry.outChannels(), geometry.outHeight(), geometry.outWidth()});
    this.geometry = geometry;
    this.weight = Tensor.zeros(
        geometry.outChannels(), geometry.inChannelsPerGroup(), geometry.kernelH(), geometry.kernelW());
    this.weightGrad = Tensor.zeros(weight.shape());
    this.bias = hasBias ? Tensor.zeros(geometry.outChannels()) : null;
    this.biasGrad = hasBias ? Tensor.zeros(geometry.outChannels()) : null;
    this.algorithm = DepthwiseConv2d.supports(geometry) ? Algorithm.DEPTHWISE : Algorithm.IM2COL;
  }

  public ConvGeometry geometry() {
    return geometry;
  }

  public Algorithm algorithm() {
    return algorithm;
  }

  /** Chooses the algorithm; {@link Algorithm#DEPTHWISE} only for depthwise geometries. */
  public void setAlgorithm(Algorithm algorithm) {
    if (!supports(algorithm, geometry)) {
      throw new IllegalArgumentException(algorithm + " cannot compute " + geometry);
    }
    this.algorithm = algorithm;
  }

  public Tensor weight() {
    return weight;
  }

  /** The bias, or null when the layer has none. */
  public Tensor bias() {
    return bias;
  }

  @Override
  public List<Parameter> parameters() {
    List<Parameter> out = new ArrayList<>(2);
    out.add(new Parameter(name + ".weight", weight, weightGrad));
    if (bias != null) {
      out.add(new Parameter(name + ".bias", bias, biasGrad));
    }
    return out;
  }

  @Override
  public void initialize(InitScheme scheme, Rng rng) {
    int receptive = geometry.kernelH() * geometry.kernelW();
    initWeights(weight, bias, geometry.inChannelsPerGroup() * receptive,
        geometry.outChannelsPerGroup() * receptive, scheme, rng);
  }

  /**
   * Makes sure every chunk has its workspaces, sized for the current algorithm; allocates only
   * when the chunk count or the algorithm's needs grow, never in steady state.
   */
  private void ensureWorkspaces(int chunks) {
    long colSize = Math.max(1, algorithm == Algorithm.IM2COL ? Im2colConv2d.workspaceSize(geometry) : 1);
    if (cols.length >= chunks && (cols.length == 0 || cols[0].numel() >= colSize)) {
      return;
    }
    int count = Math.max(chunks, cols.length);
    Tensor[] newCols = new Tensor[count];
    Tensor[] newWeight = java.util.Arrays.copyOf(partialWeightGrads, count);
    Tensor[] newBias = java.util.Arrays.copyOf(partialBiasGrads, count);
    for (int c = 0; c < count; c++) {
      if (c < cols.length && cols[c].numel() >= colSize) {
        newCols[c] = cols[c];
      } else {
        if (c < cols.length) {
          cols[c].close();
        }
        newCols[c] = Tensor.zeros(Math.toIntExact(colSize));
      }
      if (c >= partialWeightGrads.length) {
        newWeight[c] = c == 0 ? weightGrad : Tensor.zeros(weight.shape());
        newBias[c] = c == 0 || bias == null ? biasGrad : Tensor.zeros(geometry.outChannels());
      }
    }
    cols = newCols;
    partialWeightGrads = newWeight;
    partialBiasGrads = newBias;
  }

  // x: (N, C, H, W) -> y: (N, OC, OH, OW)
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    Tensor x = inputs[0];
    int n = x.dim(0);
    MemorySegment b = bias == null ? null : bias.segment();
    if (algorithm == Algorithm.DIRECT) {
      DirectConv2d.forward(geometry, n, x.segment(), weight.segment(), b, output.segment());
      return;
    }
    Parallel pool = Parallel.get();
    ensureWorkspaces(pool.chunks(n, MIN_IMAGES_PER_CHUNK));
    long inSize = geometry.inputSize();
    long outSize = geometry.outputSize();
    boolean depthwise = algorithm == Algorithm.DEPTHWISE;
    pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
      MemorySegment col = cols[chunk].segment();
      for (int img = from; img < to; img++) {
        if (depthwise) {
          DepthwiseConv2d.forwardImage(geometry, x.segment(), img * inSize, weight.segment(), b,
              output.segment(), img * outSize);
        } else {
          Im2colConv2d.forwardImage(geometry, x.segment(), img * inSize, weight.segment(), b, col,
              output.segment(), img * outSize);
        }
      }
    });
  }

  // Differentiates y = conv(x, W) + b: dW = sum_n dy_n * col(x_n)^T, db = sum dy, dx = col2im(W^T dy).
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    Tensor x = inputs[0];
    Tensor dx = gradInputs[0];
    int n = x.dim(0);
    if (algorithm == Algorithm.DIRECT) {
      DirectConv2d.backwardWeights(geometry, n, x.segment(), gradOutput.segment(),
          weightGrad.segment(), biasGrad == null ? null : biasGrad.segment());
      if (dx != null) {
        DirectConv2d.backwardData(geometry, n, gradOutput.segment(), weight.segment(), dx.segment());
      }
      return;
    }
    Parallel pool = Parallel.get();
    int chunks = pool.chunks(n, MIN_IMAGES_PER_CHUNK);
    ensureWorkspaces(chunks);
    long inSize = geometry.inputSize();
    long outSize = geometry.outputSize();
    boolean depthwise = algorithm == Algorithm.DEPTHWISE;
    pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
      MemorySegment col = cols[chunk].segment();
      MemorySegment dw = partialWeightGrads[chunk].segment();
      MemorySegment db = biasGrad == null ? null : partialBiasGrads[chunk].segment();
      MemorySegment dxs = dx == null ? null : dx.segment();
      for (int img = from; img < to; img++) {
        if (depthwise) {
          DepthwiseConv2d.backwardImage(geometry, x.segment(), img * inSize, weight.segment(),
              gradOutput.segment(), img * outSize, dw, db, img == from, dxs, img * inSize);
        } else {
          Im2colConv2d.backwardImage(geometry, x.segment(), img * inSize, weight.segment(),
              gradOutput.segment(), img * outSize, col, dw, db, img == from, dxs, img * inSize);
        }
      }
    });
    // Chunk 0 wrote straight into the gradients; add the others in chunk order.
    for (int c = 1; c < chunks; c++) {
      addInto(weightGrad, partialWeightGrads[c]);
      if (biasGrad != null) {
        addInto(biasGrad, partialBiasGrads[c]);
      }
    }
  }

  private static void addInto(Tensor dst, Tensor src) {
    MemorySegment d = dst.segment();
    MemorySegment s = src.segment();
    for (long i = 0; i < dst.numel(); i++) {
      d.setAtIndex(F32, i, d.getAtIndex(F32, i) + s.getAtIndex(F32, i));
    }
  }

  @Override
  public void close() {
    super.close();
    for (int c = 0; c < cols.length; c++) {
      cols[c].close();
      if (c > 0) {
        partialWeightGrads[c].close();
        if (partialBiasGrads[c] != null) {
          partialBiasGrads[c].close();
        }
      }
    }
  }
}
