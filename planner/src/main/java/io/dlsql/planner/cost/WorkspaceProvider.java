package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.Op;
import io.dlsql.executor.kernel.blocked.Im2rowConv2d;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.conv.Im2colConv2d;
import io.dlsql.executor.kernel.winograd.WinogradConv2d;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.planner.Mode;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Scratch memory kernels hold: per operator, the implementation's per-image workspace once per
 * chunk of images in flight (one chunk per thread, at most one per image), and in a convolution's
 * backward one partial weight gradient per chunk after the first, which the executor sums in chunk
 * order for deterministic results; and per plan, {@link #heldBytes}, what the executor's layers
 * keep for the whole run in tracked (off-heap) tensors.
 */
public final class WorkspaceProvider {
  /** The convolution algorithms the executor names, whose buffers {@link #heldBytes} follows. */
  private static final Set<String> EXECUTOR_ALGORITHMS =
      Arrays.stream(Conv2d.Algorithm.values()).map(Enum::name).collect(Collectors.toUnmodifiableSet());

  /** Bytes of workspace for {@code batch} samples on {@code threads} threads. */
  public long bytes(LogicalNode node, Implementation impl, int batch, int threads, Direction direction) {
    int chunks = impl.cost().threaded() ? Math.max(1, Math.min(threads, batch)) : 1;
    long floats = impl.cost().workspaceFloats().applyAsLong(node) * chunks;
    if (direction == Direction.BACKWARD && node.op() == Op.CONV2D) {
      floats += (chunks - 1) * BytesMovedProvider.weightCount(node);
    }
    return floats * BytesMovedProvider.ELEMENT_BYTES;
  }

  /**
   * Bytes the executor's layers allocate as tracked tensors ({@code MemoryTracker}) and keep from
   * their first run (or their construction) to the end of the run, sized by the executor's own
   * kernel sizes, so the estimate follows whatever the kernels allocate:
   *
   * <ul>
   *   <li>convolutions in NCHW ({@code Conv2d}): one set of per-chunk buffers that all of a
   *       network's convolutions share ({@code Conv2d.Workspace}: im2col blocks, {@link
   *       Im2colConv2d#workspaceSize}, or Winograd's tiles), as many as the most chunks and as large
   *       as the largest layer needs; per layer the partial weight and bias gradients of the chunks
   *       after the first (allocated by the forward too, inference included), Winograd's
   *       transformed weights, and in training a scratch gradient where a fused ReLU's mask cannot
   *       be applied inside the kernel (depthwise, direct);
   *   <li>convolutions in NHWC and NCHWc ({@code BlockedConvolution}, one per layer, nothing
   *       shared): im2row's repacked weights and per chunk its lowered rows ({@link
   *       Im2rowConv2d#workspaceSize}) and partial weight and bias gradients; spatial pack's and
   *       depthwise's scratch lives on the Java heap and is not counted, as {@code MemoryTracker}
   *       does not count it; in training a fused ReLU's masked gradient;
   *   <li>per convolution whose only reader is a batchnorm, the folded weights and bias the
   *       network allocates when it is built (evaluation folds batchnorm by default), training
   *       included;
   *   <li>in training, a dense layer with a fused ReLU keeps the masked output gradient.
   * </ul>
   *
   * Implicit GEMM (strided too) keeps its packed weights and padded images on the Java heap: nothing
   * counted.
   * Convolutions under a prospective algorithm the executor does not run are priced by their
   * per-operator workspace ({@link CostModel#workspaceBytes}).
   */
  public long heldBytes(PhysicalPlan plan, CostModel cost) {
    int batch = plan.request().batchSize();
    boolean training = plan.request().mode() == Mode.TRAIN;
    LogicalPlan logical = plan.logical();
    long sharedFloatsPerChunk = 0;
    int sharedChunks = 0;
    long ownFloats = 0;
    long ownBytes = 0;
    for (PlanNode.Operator op : plan.operators()) {
      LogicalNode node = op.logical();
      int chunks = Math.max(1, Math.min(op.threads(), batch));
      boolean fusedRelu = computesFollowingRelu(plan, op);
      if (node.spec() instanceof LayerSpec.Dense d && training && fusedRelu) {
        ownFloats += (long) batch * d.units();
      }
      if (!(node.spec() instanceof LayerSpec.Conv2d spec)) {
        continue;
      }
      ConvGeometry g = node.geometry();
      long weights = g.weightCount();
      long biasFloats = spec.bias() ? g.outChannels() : 0;
      if (foldedAtBuild(logical, node)) {
        ownFloats += weights + g.outChannels();
      }
      String name = op.implementation().executorAlgorithm();
      Layout layout = op.implementation().inputLayout().executorLayout();
      if (name == null || !EXECUTOR_ALGORITHMS.contains(name)
          || !Conv2d.supports(Conv2d.Algorithm.valueOf(name), layout, g)) {
        ownBytes += cost.workspaceBytes(plan, op);
        continue;
      }
      Conv2d.Algorithm algorithm = Conv2d.Algorithm.valueOf(name);
      long maskedGradient = (long) batch * layout.imageSize(g.outChannels(), g.outHeight(), g.outWidth());
      if (layout == Layout.NCHW) {
        if (algorithm == Conv2d.Algorithm.DIRECT) {
          ownFloats += training && fusedRelu ? maskedGradient : 0;
          continue;
        }
        sharedChunks = Math.max(sharedChunks, chunks);
        sharedFloatsPerChunk = Math.max(sharedFloatsPerChunk, sharedWorkspaceFloats(algorithm, g));
        ownFloats += (chunks - 1) * (weights + biasFloats);
        if (algorithm == Conv2d.Algorithm.WINOGRAD) {
          ownFloats += WinogradConv2d.transformedWeightsSize(g);
        }
        if (training && fusedRelu && algorithm == Conv2d.Algorithm.DEPTHWISE) {
          ownFloats += maskedGradient;
        }
        continue;
      }
      if (algorithm == Conv2d.Algorithm.IM2COL) {
        ownFloats += weights + chunks * (Im2rowConv2d.workspaceSize(g) + weights + g.outChannels());
      }
      if (training && fusedRelu) {
        ownFloats += maskedGradient;
      }
    }
    return (sharedChunks * sharedFloatsPerChunk + ownFloats) * BytesMovedProvider.ELEMENT_BYTES + ownBytes;
  }

  /** Floats of one chunk's buffer in the network's shared convolution workspace (at least one). */
  private static long sharedWorkspaceFloats(Conv2d.Algorithm algorithm, ConvGeometry g) {
    return Math.max(1, switch (algorithm) {
      case IM2COL -> Im2colConv2d.workspaceSize(g);
      case WINOGRAD -> WinogradConv2d.workspaceSize(g) + WinogradConv2d.weightGradientWorkspaceSize(g);
      case DIRECT, DEPTHWISE, IMPLICIT_GEMM, STRIDED_IMPLICIT_GEMM, SPATIAL_PACK -> 1;
    });
  }

  /** Whether {@code op}'s kernel computes the ReLU after it: it anchors a fusion group whose next member is a ReLU. */
  static boolean computesFollowingRelu(PhysicalPlan plan, PlanNode.Operator op) {
    if (op.fusionGroup() < 0) {
      return false;
    }
    List<Integer> members = plan.fusionGroup(op.fusionGroup()).members();
    // A convolution that folds a batchnorm computes the ReLU after it too, but only in evaluation,
    // where no masked gradient is needed: its next member is the batchnorm.
    return members.get(0) == op.id() && plan.nodes().get(members.get(1)) instanceof PlanNode.Operator next
        && next.logical().op() == Op.RELU;
  }

  /**
   * Whether the network allocates folded weights for this convolution when it is built: its only
   * reader is a batchnorm over images (the executor's default choice folds it in evaluation).
   */
  static boolean foldedAtBuild(LogicalPlan logical, LogicalNode conv) {
    List<Integer> readers = logical.consumers(conv.output());
    if (readers.size() != 1) {
      return false;
    }
    LogicalNode bn = logical.node(readers.get(0));
    return bn.op() == Op.BATCHNORM2D && bn.inputs().size() == 1 && bn.outputShape().length == 3;
  }
}
