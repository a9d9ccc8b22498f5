package io.dlsql.planner.kernel;

import io.dlsql.executor.graph.Op;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.conv.ImplicitGemmConv2d;
import io.dlsql.executor.kernel.conv.SpatialPackConv2d;
import io.dlsql.executor.kernel.conv.StridedImplicitGemmConv2d;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.physical.TensorLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The candidate implementations the search chooses from, as data: every entry says which nodes
 * it applies to and what it costs. {@link #prospective()} lists every kernel the planner knows a
 * cost for, those the kernels work is adding included; {@link #executable()} keeps those the
 * executor runs today, found by name in its {@link Conv2d.Algorithm} and {@link Layout} enums, so
 * a new kernel joins plans as soon as the executor names it.
 */
public final class KernelRegistry {
  /** Reference loops, one thread, scalar: about one FMA per cycle against sixteen for GEMM. */
  static final double DIRECT_EFFICIENCY = 0.06;
  /** im2col + GEMM reaches most of the GEMM ceiling; the im2col copy is counted as traffic. */
  static final double IM2COL_EFFICIENCY = 0.8;
  /**
   * Implicit GEMM (stride-1, one group, NCHW): the GEMM micro-kernel reads im2col rows straight
   * from a zero-padded copy of the image, so the column matrix is never written. Measured on one
   * thread (CPU time, bench/README.md's per-layer table) at 72-90 GFLOP/s forward and 60-75 for
   * the weight gradient where im2col reaches 43-57, so without tuning records it ranks above
   * im2col wherever it applies.
   */
  static final double IMPLICIT_GEMM_EFFICIENCY = 0.9;
  /** Per-channel loops without a GEMM: scalar, but threaded. */
  static final double DEPTHWISE_EFFICIENCY = 0.08;
  /**
   * Spatial pack over NCHWc: register blocking without the im2col copy. Measured on one thread
   * (CPU time, batch 32, bench/README.md's layout table) it beats im2col on 3x3 stride-1 layers
   * (57 against 49 GFLOP/s forward, 70 against 42 for the weight gradient on 32x14x14) and loses on
   * 5x5, stride-2 and 1x1 layers, so without tuning records it ranks just below im2col and
   * ANALYZE MODEL's measured times decide per layer.
   */
  static final double SPATIAL_PACK_EFFICIENCY = 0.75;
  /**
   * Winograd's batched small GEMMs run below the big-GEMM rate, and today's tile transforms are
   * scalar: measured back to back on one thread (CPU time), ResNet-20 trained at 137 images/s
   * with Winograd against 185 with im2col, so its effective rate per multiplication is about a
   * sixth of im2col's. Raise this when the transforms are vectorised (or let ANALYZE MODEL's
   * tuning records decide).
   */
  static final double WINOGRAD_EFFICIENCY = 0.12;
  /** F(4x4, 3x3): 36 multiplications per 4x4 output tile instead of 144. */
  static final double WINOGRAD_MULTIPLY_FACTOR = 36.0 / 144.0;
  /** F(4x4, 3x3) output tile edge and input tile edge. */
  static final int WINOGRAD_TILE = 4;
  static final int WINOGRAD_INPUT_TILE = 6;
  /** Memory-bound operators: their arithmetic is never the limit. */
  static final double ELEMENTWISE_EFFICIENCY = 0.25;

  private final List<Implementation> implementations;

  private KernelRegistry(List<Implementation> implementations) {
    this.implementations = List.copyOf(implementations);
  }

  /** A registry of exactly these implementations (tests, studies). */
  public static KernelRegistry of(List<Implementation> implementations) {
    return new KernelRegistry(implementations);
  }

  /** Every implementation the planner has a cost for, whether or not the executor runs it yet. */
  public static KernelRegistry prospective() {
    List<Implementation> all = new ArrayList<>();
    for (TensorLayout layout : TensorLayout.values()) {
      all.add(conv("im2col", layout, node -> true, "IM2COL",
          new CostInputs(IM2COL_EFFICIENCY, 1, true, true, true,
              KernelRegistry::im2colFloats, n -> 2 * im2colFloats(n))));
    }
    // Its scratch (the padded image, grid tiles) lives in per-thread heap arrays, not in tensors,
    // so it adds traffic (the padded copy per pass) but no workspace to the tensor peak.
    all.add(conv("implicit_gemm", TensorLayout.NCHW, KernelRegistry::implicitGemmApplies,
        "IMPLICIT_GEMM",
        new CostInputs(IMPLICIT_GEMM_EFFICIENCY, 1, true, true, true, CostInputs.NONE,
            KernelRegistry::paddedImageFloats)));
    // Stride 2: each image is split once into its four stride phases (the copy is the extra
    // traffic), then implicit GEMM's tiles run on the phase planes; scratch per thread on the heap.
    all.add(conv("strided_implicit_gemm", TensorLayout.NCHW, KernelRegistry::stridedImplicitGemmApplies,
        "STRIDED_IMPLICIT_GEMM",
        new CostInputs(IMPLICIT_GEMM_EFFICIENCY, 1, true, true, true, CostInputs.NONE,
            KernelRegistry::strideSplitFloats)));
    // The executor applies a fused ReLU right after the direct loops, inside the same layer.
    all.add(conv("direct", TensorLayout.NCHW, node -> true, "DIRECT",
        new CostInputs(DIRECT_EFFICIENCY, 1, false, true, false, CostInputs.NONE, CostInputs.NONE)));
    all.add(conv("depthwise", TensorLayout.NCHW, KernelRegistry::depthwise, "DEPTHWISE",
        new CostInputs(DEPTHWISE_EFFICIENCY, 1, true, true, false, CostInputs.NONE, CostInputs.NONE)));
    // Channels-last depthwise kernels vectorise across 16 channels of a pixel.
    for (TensorLayout layout : List.of(TensorLayout.NHWC, TensorLayout.NCHWC)) {
      all.add(conv("depthwise", layout, KernelRegistry::depthwise, "DEPTHWISE",
          new CostInputs(DEPTHWISE_EFFICIENCY * 2, 1, true, true, false, CostInputs.NONE,
              CostInputs.NONE)));
    }
    all.add(conv("spatial_pack", TensorLayout.NCHWC, node -> node.geometry().groups() == 1,
        "SPATIAL_PACK",
        new CostInputs(SPATIAL_PACK_EFFICIENCY, 1, true, true, true, KernelRegistry::spatialPackFloats,
            KernelRegistry::spatialPackFloats)));
    for (TensorLayout layout : List.of(TensorLayout.NCHW, TensorLayout.NCHWC)) {
      all.add(conv("winograd", layout, KernelRegistry::winogradApplies, "WINOGRAD",
          new CostInputs(WINOGRAD_EFFICIENCY, WINOGRAD_MULTIPLY_FACTOR, true, true, true,
              KernelRegistry::winogradWorkspace, n -> 2 * winogradWorkspace(n))));
    }
    Set<Op> elementwise = EnumSet.of(Op.RELU, Op.LEAKY_RELU, Op.SIGMOID, Op.TANH, Op.BATCHNORM2D,
        Op.DROPOUT, Op.ADD);
    CostInputs memoryBound =
        new CostInputs(ELEMENTWISE_EFFICIENCY, 1, true, true, false, CostInputs.NONE, CostInputs.NONE);
    for (TensorLayout layout : TensorLayout.values()) {
      all.add(new Implementation("elementwise", elementwise, layout, layout, n -> true, null, memoryBound));
      all.add(new Implementation("pool", EnumSet.of(Op.MAXPOOL2D, Op.AVGPOOL2D), layout, layout,
          n -> true, null, memoryBound));
      all.add(new Implementation("reduce", EnumSet.of(Op.GLOBAL_AVGPOOL), layout, TensorLayout.NCHW,
          n -> true, null, memoryBound));
      all.add(new Implementation("copy", EnumSet.of(Op.CONCAT), layout, layout, n -> true, null,
          memoryBound));
    }
    // Flatten fixes the feature order the dense weights were trained with: NCHW's.
    all.add(new Implementation("copy", EnumSet.of(Op.FLATTEN), TensorLayout.NCHW, TensorLayout.NCHW,
        n -> true, null, memoryBound));
    all.add(new Implementation("gemm", EnumSet.of(Op.DENSE), TensorLayout.NCHW, TensorLayout.NCHW,
        n -> true, null,
        new CostInputs(IM2COL_EFFICIENCY, 1, true, true, true, CostInputs.NONE, CostInputs.NONE)));
    return new KernelRegistry(all);
  }

  /**
   * The prospective implementations the executor can run now: layouts it has, and for
   * convolutions the algorithm x layout pairs of its matrix ({@link Conv2d#supports(Conv2d.Algorithm,
   * Layout, ConvGeometry)}), asked per node, so a plan never holds a pair the executor cannot run.
   */
  public static KernelRegistry executable() {
    Set<String> algorithms =
        Arrays.stream(Conv2d.Algorithm.values()).map(Enum::name).collect(Collectors.toSet());
    Set<String> layouts = Arrays.stream(Layout.values()).map(Enum::name).collect(Collectors.toSet());
    return new KernelRegistry(prospective().implementations.stream()
        .filter(i -> i.executorAlgorithm() == null || algorithms.contains(i.executorAlgorithm()))
        .filter(i -> layouts.contains(i.inputLayout().name()) && layouts.contains(i.outputLayout().name()))
        .filter(i -> i.executorAlgorithm() == null
            || Conv2d.layouts(Conv2d.Algorithm.valueOf(i.executorAlgorithm())).contains(i.inputLayout().executorLayout()))
        .map(KernelRegistry::askExecutor)
        .toList());
  }

  /** A convolution implementation that applies only where the executor's matrix says it runs. */
  private static Implementation askExecutor(Implementation i) {
    if (i.executorAlgorithm() == null) {
      return i;
    }
    Conv2d.Algorithm algorithm = Conv2d.Algorithm.valueOf(i.executorAlgorithm());
    Layout layout = i.inputLayout().executorLayout();
    return new Implementation(i.name(), i.ops(), i.inputLayout(), i.outputLayout(),
        i.applies().and(node -> Conv2d.supports(algorithm, layout, node.geometry())), i.executorAlgorithm(), i.cost());
  }

  private static Implementation conv(String name, TensorLayout layout, Predicate<LogicalNode> applies,
      String algorithm, CostInputs cost) {
    return new Implementation(name, EnumSet.of(Op.CONV2D), layout, layout, applies, algorithm, cost);
  }

  private static boolean depthwise(LogicalNode node) {
    ConvGeometry g = node.geometry();
    return g.groups() == g.inChannels() && g.groups() > 1;
  }

  private static boolean implicitGemmApplies(LogicalNode node) {
    return ImplicitGemmConv2d.supports(node.geometry());
  }

  private static boolean stridedImplicitGemmApplies(LogicalNode node) {
    return StridedImplicitGemmConv2d.supports(node.geometry());
  }

  /** The stride-2 kernel's phase-plane copy of an image, per pass (the executor's own size). */
  static long strideSplitFloats(LogicalNode node) {
    return StridedImplicitGemmConv2d.splitFloatsPerImage(node.geometry());
  }

  /**
   * One zero-bordered copy of an image at stride 1: C * (OH + reach) * (OW + reach) floats, the
   * padded image every output pixel's receptive field lies in.
   */
  static long paddedImageFloats(LogicalNode node) {
    ConvGeometry g = node.geometry();
    return (long) g.inChannels() * (g.outHeight() + (g.kernelH() - 1) * g.dilationH())
        * (g.outWidth() + (g.kernelW() - 1) * g.dilationW());
  }

  private static boolean winogradApplies(LogicalNode node) {
    ConvGeometry g = node.geometry();
    return g.kernelH() == 3 && g.kernelW() == 3 && g.strideH() == 1 && g.strideW() == 1
        && g.dilationH() == 1 && g.dilationW() == 1 && g.groups() == 1;
  }

  /**
   * One image's column matrix, C*KH*KW x OH*OW floats; a pointwise convolution reads the image
   * itself. (The planner's own formula, not the executor's workspace function, so the cost model
   * stays fixed while kernels change how many images they pack per GEMM.)
   */
  static long im2colFloats(LogicalNode node) {
    ConvGeometry g = node.geometry();
    return g.isPointwise() ? 0 : (long) g.inChannels() * g.kernelH() * g.kernelW() * g.outPixels();
  }

  /**
   * Spatial pack's per-thread buffers: the zero-bordered input image and an output-gradient image
   * in 16-channel blocks (the executor's SpatialPackConv2d sizes; the padded copy is also the
   * extra traffic per pass).
   */
  static long spatialPackFloats(LogicalNode node) {
    ConvGeometry g = node.geometry();
    return SpatialPackConv2d.paddedImageSize(g) + SpatialPackConv2d.outputImageSize(g);
  }

  /** Transformed input and output tiles of one image: (C + OC) * tiles * 36 floats. */
  private static long winogradWorkspace(LogicalNode node) {
    ConvGeometry g = node.geometry();
    long tiles = (long) ceilDiv(g.outHeight(), WINOGRAD_TILE) * ceilDiv(g.outWidth(), WINOGRAD_TILE);
    return (long) (g.inChannels() + g.outChannels()) * tiles * WINOGRAD_INPUT_TILE * WINOGRAD_INPUT_TILE;
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /** All implementations, in registry order. */
  public List<Implementation> implementations() {
    return implementations;
  }

  /** Implementations that can compute {@code node}, in registry order. */
  public List<Implementation> candidates(LogicalNode node) {
    return implementations.stream().filter(i -> i.canCompute(node)).toList();
  }

  /** Names of the convolution algorithms in this registry, sorted. */
  public Set<String> convAlgorithms() {
    return implementations.stream().filter(i -> i.ops().contains(Op.CONV2D))
        .map(Implementation::name).collect(Collectors.toCollection(TreeSet::new));
  }

  /** Layouts some implementation in this registry reads. */
  public Set<TensorLayout> layouts() {
    EnumSet<TensorLayout> out = EnumSet.noneOf(TensorLayout.class);
    implementations.forEach(i -> out.add(i.inputLayout()));
    return out;
  }

  /**
   * What the executor does without a planner: in NCHW, the depthwise kernel for depthwise
   * convolutions, implicit GEMM on stride 1, strided implicit GEMM on stride 2, im2col elsewhere,
   * and each other operator's NCHW kernel.
   */
  public Implementation executorDefault(LogicalNode node) {
    List<Implementation> nchw = candidates(node).stream()
        .filter(i -> i.inputLayoutFor(node.inputShapes().get(0)) == TensorLayout.NCHW)
        .toList();
    if (nchw.isEmpty()) {
      throw new IllegalStateException("no NCHW implementation of " + node.op() + " for " + node.name());
    }
    if (node.op() == Op.CONV2D) {
      for (String preferred : List.of("depthwise", "implicit_gemm", "strided_implicit_gemm", "im2col")) {
        for (Implementation i : nchw) {
          if (i.name().equals(preferred)) {
            return i;
          }
        }
      }
    }
    return nchw.get(0);
  }
}
