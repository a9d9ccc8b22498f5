package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.blocked.BlockedConvolution;
import io.dlsql.executor.kernel.conv.ConvCost;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.conv.DepthwiseConv2d;
import io.dlsql.executor.kernel.conv.DirectConv2d;
import io.dlsql.executor.kernel.conv.Im2colConv2d;
import io.dlsql.executor.kernel.conv.ImplicitGemmConv2d;
import io.dlsql.executor.kernel.conv.SpatialPackConv2d;
import io.dlsql.executor.kernel.conv.StridedImplicitGemmConv2d;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.winograd.WinogradConv2d;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * 2-D convolution (grouped and depthwise included). The default algorithm ({@link
 * #defaultAlgorithm(ConvGeometry)}) is implicit GEMM for stride 1, strided implicit GEMM for
 * stride 2, depthwise for depthwise geometries and im2col + GEMM otherwise, with images split
 * across threads, each thread with its own scratch and (in backward) its own partial weight
 * gradient, summed in chunk order so results do not depend on timing. {@link Algorithm#DIRECT} is
 * the plain reference.
 */
public final class Conv2d extends Layer {
  /** Convolution algorithm: alternative lowerings of the same operator. */
  public enum Algorithm {
    /** Variant 0: plain loops, single-threaded. */
    DIRECT,
    /** im2col + GEMM per image, images in parallel. */
    IM2COL,
    /** Direct per-channel loops for depthwise convolutions (groups == input channels), images in parallel. */
    DEPTHWISE,
    /** Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions: 36 GEMMs over transformed tiles. */
    WINOGRAD,
    /**
     * Implicit GEMM for stride-1 convolutions: GEMM tiles read the im2col rows straight from a
     * zero-padded copy of each image, and the input gradient is the forward kernel on the
     * transposed geometry (no im2col, no col2im); images in parallel.
     */
    IMPLICIT_GEMM,
    /** Spatial pack on NCHWc: register-blocked direct convolution over 16-channel blocks, ungrouped. */
    SPATIAL_PACK,
    /**
     * Implicit GEMM for stride-2 convolutions (3x3 downsampling, 1x1 projections): each image is
     * split once into its four stride phases, on which every im2col row is a contiguous run; the
     * input gradient is one GEMM per phase of dx, interleaved into dx (no col2im); images in parallel.
     */
    STRIDED_IMPLICIT_GEMM
  }

  /**
   * The algorithm x layout matrix, in one place: whether {@code algorithm} computes {@code
   * geometry} on inputs in {@code layout}. NCHW runs direct, im2col, depthwise, Winograd and
   * implicit GEMM (stride 1 and strided); NHWC
   * runs direct, im2col (as im2row + GEMM) and depthwise; NCHWc runs direct, spatial pack and
   * depthwise. The planner asks this before it offers a pair.
   */
  public static boolean supports(Algorithm algorithm, Layout layout, ConvGeometry geometry) {
    if (!layouts(algorithm).contains(layout)) {
      return false;
    }
    if (layout == Layout.NCHW) {
      return switch (algorithm) {
        case DIRECT, IM2COL -> true;
        case DEPTHWISE -> DepthwiseConv2d.supports(geometry);
        case WINOGRAD -> WinogradConv2d.supports(geometry);
        case IMPLICIT_GEMM -> ImplicitGemmConv2d.supports(geometry);
        case STRIDED_IMPLICIT_GEMM -> StridedImplicitGemmConv2d.supports(geometry);
        case SPATIAL_PACK -> false;
      };
    }
    BlockedConvolution.Kernel kernel = blockedKernel(algorithm);
    return kernel != null && BlockedConvolution.supports(kernel, layout, geometry);
  }

  /** The layouts {@code algorithm} runs in for some geometry (the rows of the matrix). */
  public static Set<Layout> layouts(Algorithm algorithm) {
    return switch (algorithm) {
      case DIRECT, DEPTHWISE -> EnumSet.allOf(Layout.class);
      case IM2COL -> EnumSet.of(Layout.NCHW, Layout.NHWC);
      case WINOGRAD, IMPLICIT_GEMM, STRIDED_IMPLICIT_GEMM -> EnumSet.of(Layout.NCHW);
      case SPATIAL_PACK -> EnumSet.of(Layout.NCHWC);
    };
  }

  /** The kernel that runs {@code algorithm} outside NCHW, or null when it has none. */
  private static BlockedConvolution.Kernel blockedKernel(Algorithm algorithm) {
    return switch (algorithm) {
      case DIRECT -> BlockedConvolution.Kernel.DIRECT;
      case IM2COL -> BlockedConvolution.Kernel.IM2ROW;
      case DEPTHWISE -> BlockedConvolution.Kernel.DEPTHWISE;
      case SPATIAL_PACK -> BlockedConvolution.Kernel.SPATIAL_PACK;
      case WINOGRAD, IMPLICIT_GEMM, STRIDED_IMPLICIT_GEMM -> null;
    };
  }

  /**
   * The algorithm a layer takes when it is set to run in {@code layout} and its current one does
   * not run there: in NCHW {@link #defaultAlgorithm(ConvGeometry)}; else depthwise for depthwise
   * geometries, im2col (NHWC) or spatial pack (NCHWc), else direct.
   */
  public static Algorithm defaultAlgorithm(Layout layout, ConvGeometry geometry) {
    if (layout == Layout.NCHW) {
      return defaultAlgorithm(geometry);
    }
    for (Algorithm a : List.of(Algorithm.DEPTHWISE, layout == Layout.NCHWC ? Algorithm.SPATIAL_PACK : Algorithm.IM2COL)) {
      if (supports(a, layout, geometry)) {
        return a;
      }
    }
    return Algorithm.DIRECT;
  }

  /**
   * How much larger than float32 direct summation the rounding error of {@code algorithm} may be
   * (1 for algorithms that sum the same products in another order); tests scale tolerances by it.
   */
  public static double accuracyFactor(Algorithm algorithm) {
    return algorithm == Algorithm.WINOGRAD ? WinogradConv2d.ACCURACY_FACTOR : 1;
  }

  /**
   * What {@code algorithm} costs on a batch of {@code batch} images of {@code geometry}: FLOPs,
   * bytes moved and workspace, forward and backward (the planner's cost inputs). Direct
   * algorithms move only inputs, outputs and weights; im2col adds its lowered matrix written and
   * read; Winograd counts its 36 GEMMs, its transforms and its transformed tiles.
   *
   * @throws IllegalArgumentException if the algorithm cannot compute the geometry
   */
  public static ConvCost cost(Algorithm algorithm, ConvGeometry geometry, int batch) {
    if (algorithm == Algorithm.SPATIAL_PACK) {
      return cost(algorithm, Layout.NCHWC, geometry, batch);
    }
    if (!supports(algorithm, Layout.NCHW, geometry)) {
      throw new IllegalArgumentException(algorithm + " cannot compute " + geometry);
    }
    long flops = 2 * geometry.macsPerImage() * batch;
    long io = (long) batch * (geometry.inputSize() + geometry.outputSize()) + geometry.weightCount();
    return switch (algorithm) {
      case DIRECT, DEPTHWISE -> new ConvCost(flops, 2 * flops, Float.BYTES * io, 2 * Float.BYTES * io, 0, 0);
      case IM2COL -> {
        long lowered = (long) batch * Im2colConv2d.extraTrafficPerImage(geometry);
        yield new ConvCost(flops, 2 * flops, Float.BYTES * (io + lowered),
            Float.BYTES * (2 * io + 2 * lowered), Float.BYTES * Im2colConv2d.workspaceSize(geometry), 0);
      }
      case WINOGRAD -> WinogradConv2d.cost(geometry, batch);
      case IMPLICIT_GEMM -> {
        // The extra grid columns and rounded-up channel tiles are computed too.
        ConvGeometry t = ImplicitGemmConv2d.transposed(geometry);
        long forward = 2 * ImplicitGemmConv2d.macsPerImage(geometry) * batch;
        long backward = forward + 2 * ImplicitGemmConv2d.macsPerImage(t) * batch;
        // Each image is copied once into its padded buffer (and dy once or twice in backward).
        long copies = (long) batch * (geometry.inputSize() + 2 * geometry.outputSize());
        yield new ConvCost(forward, backward, Float.BYTES * (io + (long) batch * geometry.inputSize()),
            Float.BYTES * (2 * io + copies), Float.BYTES * ImplicitGemmConv2d.workspaceSize(geometry),
            Float.BYTES * ((long) ImplicitGemmConv2d.packedWeightsSize(geometry)
                + ImplicitGemmConv2d.packedTransposedWeightsSize(geometry)));
      }
      case STRIDED_IMPLICIT_GEMM -> {
        // Dropped grid columns and rounded-up channel tiles are computed too; the weight gradient
        // does the forward's multiply-adds, the input gradient those of its phase GEMMs.
        long forward = 2 * StridedImplicitGemmConv2d.forwardMacsPerImage(geometry) * batch;
        long backward = forward + 2 * StridedImplicitGemmConv2d.inputGradientMacsPerImage(geometry) * batch;
        // Each image is split once into its phase planes per pass, dy copied twice in backward.
        long split = (long) batch * StridedImplicitGemmConv2d.splitFloatsPerImage(geometry);
        long copies = split + 2L * batch * geometry.outputSize();
        yield new ConvCost(forward, backward, Float.BYTES * (io + split), Float.BYTES * (2 * io + copies),
            Float.BYTES * StridedImplicitGemmConv2d.workspaceSize(geometry),
            Float.BYTES * ((long) StridedImplicitGemmConv2d.packedWeightsSize(geometry)
                + StridedImplicitGemmConv2d.packedTransposedWeightsSize(geometry)));
      }
      case SPATIAL_PACK -> throw new IllegalStateException("spatial pack is costed in NCHWc");
    };
  }

  /**
   * What {@code algorithm} costs in {@code layout}: NCHW as {@link #cost(Algorithm, ConvGeometry,
   * int)}; in NHWC and NCHWc, inputs and outputs at their stored size (NCHWc pads channels to
   * blocks of 16), im2row's lowered rows like im2col's, spatial pack's padded image copy per image
   * and pass, and the packed weights each algorithm keeps.
   *
   * @throws IllegalArgumentException if the pair cannot compute the geometry
   */
  public static ConvCost cost(Algorithm algorithm, Layout layout, ConvGeometry geometry, int batch) {
    if (!supports(algorithm, layout, geometry)) {
      throw new IllegalArgumentException(algorithm + " in " + layout + " cannot compute " + geometry);
    }
    if (layout == Layout.NCHW) {
      return cost(algorithm, geometry, batch);
    }
    BlockedConvolution.Kernel kernel = blockedKernel(algorithm);
    long flops = 2 * geometry.macsPerImage() * batch;
    long in = layout.imageSize(geometry.inChannels(), geometry.inHeight(), geometry.inWidth());
    long out = layout.imageSize(geometry.outChannels(), geometry.outHeight(), geometry.outWidth());
    long io = (long) batch * (in + out) + geometry.weightCount();
    long extra = switch (kernel) {
      case IM2ROW -> (long) batch * Im2colConv2d.extraTrafficPerImage(geometry);
      case SPATIAL_PACK -> (long) batch * 2 * SpatialPackConv2d.paddedImageSize(geometry);
      case DIRECT, DEPTHWISE -> 0;
    };
    return new ConvCost(flops, 2 * flops, Float.BYTES * (io + extra), Float.BYTES * (2 * io + 2 * extra),
        Float.BYTES * BlockedConvolution.workspaceFloats(kernel, geometry),
        Float.BYTES * BlockedConvolution.layerFloats(kernel, geometry));
  }

  /** Whether {@code algorithm} can compute {@code geometry} on NCHW inputs (the executor's default layout). */
  public static boolean supports(Algorithm algorithm, ConvGeometry geometry) {
    return supports(algorithm, Layout.NCHW, geometry);
  }

  /** Whether {@code algorithm} can compute {@code geometry} in some layout. */
  public static boolean supportsInSomeLayout(Algorithm algorithm, ConvGeometry geometry) {
    for (Layout layout : Layout.values()) {
      if (supports(algorithm, layout, geometry)) {
        return true;
      }
    }
    return false;
  }

  /** Images per chunk at least, so a chunk's work outweighs handing it to a thread. */
  private static final int MIN_IMAGES_PER_CHUNK = 1;

  private final ConvGeometry geometry;
  private final Tensor weight;
  private final Tensor weightGrad;
  private final Tensor bias;
  private final Tensor biasGrad;
  private Algorithm algorithm;
  /** The activation applied in the output loop (fused ReLU), identity by default. */
  private FusedActivation activation = FusedActivation.IDENTITY;
  /** dy masked by the fused activation, for algorithms whose backward cannot mask on the fly. */
  private Tensor maskedGrad;
  /** Winograd's transformed weights U (36 x OC x C), when that algorithm runs. */
  private Tensor winogradWeights;
  /** Implicit GEMM's packed weights and packed transposed weights (input gradient), when it runs. */
  private float[] implicitWeights;
  private float[] implicitTransposedWeights;
  /** Strided implicit GEMM's packed weights per phase of the input gradient, when it runs. */
  private float[][] stridedTransposedWeights;
  /** The batchnorm folded into evaluation forwards, and the folded weights and bias. */
  private BatchNorm2d foldedBatchNorm;
  private Tensor foldedWeight;
  private Tensor foldedBias;

  /** Where the per-chunk im2col buffers come from: this layer's own, or one its network shares. */
  private Workspace workspace = new Workspace();
  private boolean ownWorkspace = true;
  /** Per chunk: im2col buffer, partial weight and bias gradients (chunk 0 writes the final ones). */
  private Tensor[] cols = new Tensor[0];
  private Tensor[] partialWeightGrads = new Tensor[0];
  private Tensor[] partialBiasGrads = new Tensor[0];
  /** Packed weights and workspaces for inputs in NHWC or NCHWc, made on first such input. */
  private BlockedConvolution blocked;

  public Conv2d(String name, ConvGeometry geometry, boolean hasBias) {
    super(name, new int[] {geometry.outChannels(), geometry.outHeight(), geometry.outWidth()});
    this.geometry = geometry;
    this.weight = Tensor.zeros(
        geometry.outChannels(), geometry.inChannelsPerGroup(), geometry.kernelH(), geometry.kernelW());
    this.weightGrad = Tensor.zeros(weight.shape());
    this.bias = hasBias ? Tensor.zeros(geometry.outChannels()) : null;
    this.biasGrad = hasBias ? Tensor.zeros(geometry.outChannels()) : null;
    this.algorithm = defaultAlgorithm(geometry);
  }

  /**
   * The algorithm a new layer runs: depthwise for depthwise geometries, implicit GEMM where it
   * applies (stride 1), strided implicit GEMM for stride 2, im2col otherwise. Measured on this
   * project's machine (bench/README.md): implicit GEMM beat im2col on every stride-1 layer of the
   * convnet and ResNet-20, strided implicit GEMM on their stride-2 and 1x1 stride-2 layers.
   */
  public static Algorithm defaultAlgorithm(ConvGeometry geometry) {
    if (DepthwiseConv2d.supports(geometry)) {
      return Algorithm.DEPTHWISE;
    }
    if (ImplicitGemmConv2d.supports(geometry)) {
      return Algorithm.IMPLICIT_GEMM;
    }
    return StridedImplicitGemmConv2d.supports(geometry) ? Algorithm.STRIDED_IMPLICIT_GEMM : Algorithm.IM2COL;
  }

  public ConvGeometry geometry() {
    return geometry;
  }

  public Algorithm algorithm() {
    return algorithm;
  }

  /**
   * Chooses the algorithm; it must run in some layout ({@link Algorithm#DEPTHWISE} only for
   * depthwise geometries, {@link Algorithm#SPATIAL_PACK} only on NCHWc inputs), and forward checks
   * that it runs in the layout its input arrives in.
   */
  public void setAlgorithm(Algorithm algorithm) {
    if (!supportsInSomeLayout(algorithm, geometry)) {
      throw new IllegalArgumentException(algorithm + " cannot compute " + geometry);
    }
    this.algorithm = algorithm;
  }

  /** The activation fused into this convolution's output. */
  public FusedActivation fusedActivation() {
    return activation;
  }

  /**
   * Fuses {@code act} into the output: the layer then computes {@code act(conv(x) + b)} and its
   * backward takes the gradient by that activated output.
   */
  public void setFusedActivation(FusedActivation act) {
    this.activation = Objects.requireNonNull(act, "activation");
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

  /** Floats of per-thread workspace the current algorithm needs (at least one). */
  private long workspaceFloats() {
    return Math.max(1, switch (algorithm) {
      case IM2COL -> Im2colConv2d.workspaceSize(geometry);
      case WINOGRAD -> WinogradConv2d.workspaceSize(geometry) + WinogradConv2d.weightGradientWorkspaceSize(geometry);
      case DIRECT, DEPTHWISE, IMPLICIT_GEMM, STRIDED_IMPLICIT_GEMM, SPATIAL_PACK -> 1;
    });
  }

  /**
   * Per-chunk im2col (or Winograd) buffers. Each convolution has its own unless a caller whose
   * convolutions never run at the same time (a network's layers) gives them one to share, so the
   * buffers are as large as the largest layer needs instead of one set per layer.
   */
  public static final class Workspace implements AutoCloseable {
    private Tensor[] buffers = new Tensor[0];

    /** At least {@code chunks} buffers of at least {@code floats} floats each; grows, never shrinks. */
    Tensor[] ensure(int chunks, long floats) {
      if (buffers.length >= chunks && (buffers.length == 0 || buffers[0].numel() >= floats)) {
        return buffers;
      }
      int count = Math.max(chunks, buffers.length);
      long size = Math.max(floats, buffers.length == 0 ? 0 : buffers[0].numel());
      Tensor[] grown = new Tensor[count];
      for (int c = 0; c < count; c++) {
        if (c < buffers.length && buffers[c].numel() >= size) {
          grown[c] = buffers[c];
        } else {
          if (c < buffers.length) {
            buffers[c].close();
          }
          grown[c] = Tensor.zeros(Math.toIntExact(size));
        }
      }
      buffers = grown;
      return buffers;
    }

    @Override
    public void close() {
      for (Tensor t : buffers) {
        t.close();
      }
      buffers = new Tensor[0];
    }
  }

  /** Takes this layer's im2col buffers from {@code shared} from now on, freeing its own. */
  public void shareWorkspace(Workspace shared) {
    if (workspace != shared) {
      if (ownWorkspace) {
        workspace.close();
      }
      workspace = shared;
      ownWorkspace = false;
      cols = new Tensor[0];
    }
  }

  /**
   * Makes sure every chunk has its workspaces, sized for the current algorithm; allocates only
   * when the chunk count or the algorithm's needs grow, never in steady state.
   */
  private void ensureWorkspaces(int chunks) {
    long colSize = workspaceFloats();
    cols = workspace.ensure(chunks, colSize);
    if (partialWeightGrads.length >= chunks) {
      return;
    }
    Tensor[] newWeight = Arrays.copyOf(partialWeightGrads, chunks);
    Tensor[] newBias = Arrays.copyOf(partialBiasGrads, chunks);
    for (int c = partialWeightGrads.length; c < chunks; c++) {
      newWeight[c] = c == 0 ? weightGrad : Tensor.zeros(weight.shape());
      newBias[c] = c == 0 || bias == null ? biasGrad : Tensor.zeros(geometry.outChannels());
    }
    partialWeightGrads = newWeight;
    partialBiasGrads = newBias;
  }

  /**
   * Folds {@code bn} (this layer's only consumer) into evaluation: a forward with {@code training}
   * false then computes {@code bn(conv(x))} with the batchnorm's activation, using weights {@code
   * W * scale} and bias {@code b * scale + shift} per output channel. Null stops folding.
   */
  public void setFoldedBatchNorm(BatchNorm2d bn) {
    if (bn != null && bn.outputShape()[0] != geometry.outChannels()) {
      throw new IllegalArgumentException("batchnorm of " + bn.outputShape()[0] + " channels after "
          + geometry.outChannels() + " output channels");
    }
    this.foldedBatchNorm = bn;
    // Allocated with the choice, so evaluation forwards allocate nothing.
    if (bn != null && foldedWeight == null) {
      foldedWeight = Tensor.zeros(weight.shape());
      foldedBias = Tensor.zeros(geometry.outChannels());
    }
  }

  /** The batchnorm folded into evaluation, or null. */
  public BatchNorm2d foldedBatchNorm() {
    return foldedBatchNorm;
  }

  /** Writes the folded weights and bias from the batchnorm's current running statistics. */
  private void foldWeights() {
    float[] scale = foldedBatchNorm.inferenceScale();
    float[] shift = foldedBatchNorm.inferenceShift();
    long per = geometry.weightCount() / geometry.outChannels();
    MemorySegment w = weight.segment();
    MemorySegment fw = foldedWeight.segment();
    for (int oc = 0; oc < geometry.outChannels(); oc++) {
      ElementwiseKernels.scaleShift(w, oc * per, fw, oc * per, (int) per, scale[oc], 0f, FusedActivation.IDENTITY);
      float b = bias == null ? 0f : bias.getFlat(oc);
      foldedBias.setFlat(oc, b * scale[oc] + shift[oc]);
    }
  }

  // x: (N, C, H, W) -> y: (N, OC, OH, OW) = act(conv(x, W) + b)
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    Tensor x = inputs[0];
    int n = x.dim(0);
    boolean fold = !training && foldedBatchNorm != null;
    if (fold) {
      foldWeights();
    }
    MemorySegment b = fold ? foldedBias.segment() : bias == null ? null : bias.segment();
    MemorySegment ws = fold ? foldedWeight.segment() : weight.segment();
    FusedActivation act = fold ? foldedBatchNorm.fusedActivation() : activation;
    MemorySegment y = output.segment();
    if (x.layout() != Layout.NCHW) {
      blocked(x.layout()).forward(blockedKernel(algorithm), x.layout(), n, x.segment(), ws, b, act, y);
      return;
    }
    if (!supports(algorithm, Layout.NCHW, geometry)) {
      throw new IllegalStateException("convolution " + name + " uses " + algorithm + ", which does not run in NCHW");
    }
    if (algorithm == Algorithm.DIRECT) {
      DirectConv2d.forward(geometry, n, x.segment(), ws, b, y);
      applyActivation(act, y, 0, output.numel());
      return;
    }
    Parallel pool = Parallel.get();
    ensureWorkspaces(pool.chunks(n, MIN_IMAGES_PER_CHUNK));
    long inSize = geometry.inputSize();
    long outSize = geometry.outputSize();
    MemorySegment xs = x.segment();
    MemorySegment u = algorithm == Algorithm.WINOGRAD ? transformedWeights(ws) : null;
    float[] packed = algorithm == Algorithm.IMPLICIT_GEMM || algorithm == Algorithm.STRIDED_IMPLICIT_GEMM
        ? packedWeights(ws) : null;
    pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
      switch (algorithm) {
        case IMPLICIT_GEMM -> ImplicitGemmConv2d.forward(geometry, to - from, xs, from * inSize, packed,
            b, act, y, from * outSize);
        case STRIDED_IMPLICIT_GEMM -> StridedImplicitGemmConv2d.forward(geometry, to - from, xs, from * inSize,
            packed, b, act, y, from * outSize);
        case IM2COL -> Im2colConv2d.forward(geometry, to - from, xs, from * inSize, ws, b, act,
            cols[chunk].segment(), y, from * outSize);
        case WINOGRAD -> WinogradConv2d.forward(geometry, to - from, xs, from * inSize, u, b, act,
            cols[chunk].segment(), y, from * outSize);
        case DEPTHWISE -> {
          for (int img = from; img < to; img++) {
            DepthwiseConv2d.forwardImage(geometry, xs, img * inSize, ws, b, y, img * outSize);
          }
          applyActivation(act, y, from * outSize, to * outSize);
        }
        case DIRECT, SPATIAL_PACK -> throw new IllegalStateException(algorithm + " does not run here");
      }
    });
  }

  /** The state that runs this layer in {@code layout}, after checking the algorithm runs there. */
  private BlockedConvolution blocked(Layout layout) {
    if (!supports(algorithm, layout, geometry)) {
      throw new IllegalStateException("convolution " + name + " uses " + algorithm + ", which does not run in "
          + layout + "; choose one that does (Conv2d.supports)");
    }
    if (blocked == null) {
      blocked = new BlockedConvolution(geometry);
    }
    return blocked;
  }

  /** Applies {@code act} in place over [from, to) of the output (kernels without an epilogue). */
  private static void applyActivation(FusedActivation act, MemorySegment y, long from, long to) {
    if (act == FusedActivation.RELU) {
      ElementwiseKernels.relu(y, y, from, to);
    }
  }

  // Differentiates y = act(conv(x, W) + b): with dz = dy * act'(y), dW = sum_n dz_n col(x_n)^T,
  // db = sum dz, dx = col2im(W^T dz).
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    Tensor x = inputs[0];
    Tensor dx = gradInputs[0];
    int n = x.dim(0);
    if (x.layout() != Layout.NCHW) {
      BlockedConvolution state = blocked(x.layout());
      Tensor dz = activation == FusedActivation.IDENTITY ? gradOutput : maskedGradient(output, gradOutput);
      state.backward(blockedKernel(algorithm), x.layout(), n, x.segment(), weight.segment(), dz.segment(),
          weightGrad.segment(), biasGrad == null ? null : biasGrad.segment(), dx == null ? null : dx.segment());
      return;
    }
    Parallel pool = Parallel.get();
    int chunks = pool.chunks(n, MIN_IMAGES_PER_CHUNK);
    ensureWorkspaces(chunks);
    Tensor dy = gradOutput;
    if (activation != FusedActivation.IDENTITY && algorithm != Algorithm.IM2COL
        && algorithm != Algorithm.WINOGRAD && algorithm != Algorithm.IMPLICIT_GEMM
        && algorithm != Algorithm.STRIDED_IMPLICIT_GEMM) {
      // Kernels without a fused backward get dz computed into a scratch gradient.
      dy = maskedGradient(output, gradOutput);
    }
    if (algorithm == Algorithm.DIRECT) {
      DirectConv2d.backwardWeights(geometry, n, x.segment(), dy.segment(),
          weightGrad.segment(), biasGrad == null ? null : biasGrad.segment());
      if (dx != null) {
        DirectConv2d.backwardData(geometry, n, dy.segment(), weight.segment(), dx.segment());
      }
      return;
    }
    long inSize = geometry.inputSize();
    long outSize = geometry.outputSize();
    MemorySegment xs = x.segment();
    MemorySegment ws = weight.segment();
    MemorySegment dys = dy.segment();
    MemorySegment ys = output.segment();
    MemorySegment dxs = dx == null ? null : dx.segment();
    MemorySegment u = algorithm == Algorithm.WINOGRAD ? transformedWeights(weight.segment()) : null;
    float[] packedT = algorithm == Algorithm.IMPLICIT_GEMM && dx != null ? packedTransposedWeights() : null;
    float[][] packedPhases = algorithm == Algorithm.STRIDED_IMPLICIT_GEMM && dx != null ? packedPhaseWeights() : null;
    pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
      MemorySegment dw = partialWeightGrads[chunk].segment();
      MemorySegment db = biasGrad == null ? null : partialBiasGrads[chunk].segment();
      switch (algorithm) {
        case IMPLICIT_GEMM -> ImplicitGemmConv2d.backward(geometry, to - from, xs, from * inSize, packedT,
            activation, ys, from * outSize, dys, from * outSize, dw, db, false, dxs, from * inSize);
        case STRIDED_IMPLICIT_GEMM -> StridedImplicitGemmConv2d.backward(geometry, to - from, xs, from * inSize,
            packedPhases, activation, ys, from * outSize, dys, from * outSize, dw, db, false, dxs, from * inSize);
        case WINOGRAD -> {
          long blockFloats = WinogradConv2d.workspaceSize(geometry);
          MemorySegment all = cols[chunk].segment();
          WinogradConv2d.backward(geometry, to - from, xs, from * inSize, u, activation, ys,
              from * outSize, dys, from * outSize, all, all.asSlice(blockFloats * Float.BYTES), dw, db,
              false, dxs, from * inSize);
        }
        case IM2COL -> Im2colConv2d.backward(geometry, to - from, xs, from * inSize, ws, activation,
            ys, from * outSize, dys, from * outSize, cols[chunk].segment(), dw, db, false,
            dxs, from * inSize);
        case DEPTHWISE -> {
          for (int img = from; img < to; img++) {
            DepthwiseConv2d.backwardImage(geometry, xs, img * inSize, ws, dys, img * outSize, dw, db,
                img == from, dxs, img * inSize);
          }
        }
        case DIRECT, SPATIAL_PACK -> throw new IllegalStateException(algorithm + " does not run here");
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

  /**
   * The Winograd transform of the current weights, recomputed on every call (36 small transforms
   * per channel pair, negligible next to the convolution) so it never goes stale after an
   * optimizer step or a weight load.
   */
  private MemorySegment transformedWeights(MemorySegment w) {
    if (winogradWeights == null) {
      winogradWeights = Tensor.zeros(Math.toIntExact(WinogradConv2d.transformedWeightsSize(geometry)));
    }
    WinogradConv2d.transformWeights(geometry, w, winogradWeights.segment());
    return winogradWeights.segment();
  }

  /**
   * The current weights {@code w} packed for implicit GEMM (stride 1 or strided), on every call
   * (cheap next to the convolution).
   */
  private float[] packedWeights(MemorySegment w) {
    boolean strided = algorithm == Algorithm.STRIDED_IMPLICIT_GEMM;
    int size = strided ? StridedImplicitGemmConv2d.packedWeightsSize(geometry)
        : ImplicitGemmConv2d.packedWeightsSize(geometry);
    if (implicitWeights == null || implicitWeights.length != size) {
      implicitWeights = new float[size];
    }
    if (strided) {
      StridedImplicitGemmConv2d.packWeights(geometry, w, implicitWeights);
    } else {
      ImplicitGemmConv2d.packWeights(geometry, w, implicitWeights);
    }
    return implicitWeights;
  }

  /** The current weights flipped and transposed for implicit GEMM's input gradient. */
  private float[] packedTransposedWeights() {
    if (implicitTransposedWeights == null) {
      implicitTransposedWeights = new float[ImplicitGemmConv2d.packedTransposedWeightsSize(geometry)];
    }
    ImplicitGemmConv2d.packTransposedWeights(geometry, weight.segment(), implicitTransposedWeights);
    return implicitTransposedWeights;
  }

  /** The current weights packed per phase of strided implicit GEMM's input gradient. */
  private float[][] packedPhaseWeights() {
    if (stridedTransposedWeights == null) {
      stridedTransposedWeights = new float[StridedImplicitGemmConv2d.phases(geometry)][];
    }
    StridedImplicitGemmConv2d.packTransposedWeights(geometry, weight.segment(), stridedTransposedWeights);
    return stridedTransposedWeights;
  }

  /** dz = dy * act'(y) in a scratch tensor kept for later batches. */
  private Tensor maskedGradient(Tensor y, Tensor dy) {
    if (maskedGrad == null || maskedGrad.numel() < dy.numel()) {
      if (maskedGrad != null) {
        maskedGrad.close();
      }
      maskedGrad = Tensor.zeros(Math.toIntExact(dy.numel()));
    }
    Tensor out = maskedGrad.numel() == dy.numel() ? maskedGrad
        : Tensor.wrap(maskedGrad.segment(), Math.toIntExact(dy.numel()));
    MemorySegment ys = y.segment();
    MemorySegment g = dy.segment();
    MemorySegment o = out.segment();
    Elementwise.forEach(dy.numel(), (from, to) -> ElementwiseKernels.reluBackward(ys, g, o, from, to));
    return out;
  }

  private static void addInto(Tensor dst, Tensor src) {
    ElementwiseKernels.addInto(dst.segment(), src.segment(), 0, dst.numel());
  }

  @Override
  public void close() {
    super.close();
    if (maskedGrad != null) {
      maskedGrad.close();
    }
    if (winogradWeights != null) {
      winogradWeights.close();
    }
    if (blocked != null) {
      blocked.close();
    }
    if (foldedWeight != null) {
      foldedWeight.close();
      foldedBias.close();
    }
    if (ownWorkspace) {
      workspace.close();
    }
    for (int c = 1; c < partialWeightGrads.length; c++) {
      partialWeightGrads[c].close();
      if (partialBiasGrads[c] != null) {
        partialBiasGrads[c].close();
      }
    }
  }
}
