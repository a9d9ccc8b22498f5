package io.dlsql.planner.cost;

import io.dlsql.executor.graph.Op;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.checkpoint.CheckpointSchedule;
import io.dlsql.planner.checkpoint.StageModel;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.logical.Shapes;
import io.dlsql.planner.physical.FusionGroup;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.Residency;
import io.dlsql.planner.physical.TensorLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts the property providers together over a whole plan: each operator's role in its fusion
 * group, its time forward, backward and recomputed, the persistent memory of a step and the
 * peak (a liveness walk over the schedule for inference, the checkpoint stage model for
 * training), and the plan's {@link PlanCost}.
 */
public final class CostModel {
  /** An optimizer step reads weight and gradient, reads and writes each state slot, writes the weight. */
  static final int UPDATE_PASSES_FIXED = 3;
  static final int UPDATE_PASSES_PER_SLOT = 2;
  /**
   * Input batches training holds: the trainer's loader fills the next batch on a background
   * thread while the current one computes (the executor's {@code BatchLoader}: two buffers).
   */
  public static final int TRAINING_INPUT_BATCHES = 2;

  private final MachineProfile machine;
  private final FlopsProvider flops = new FlopsProvider();
  private final BytesMovedProvider bytes = new BytesMovedProvider();
  private final WorkspaceProvider workspace = new WorkspaceProvider();
  private final ActivationMemoryProvider activations = new ActivationMemoryProvider();
  private final TimeProvider time;
  private final TuningRecords tuning;

  public CostModel(MachineProfile machine, TuningRecords tuning) {
    this.machine = machine;
    this.tuning = tuning;
    this.time = new TimeProvider(machine, tuning, flops, bytes);
  }

  public MachineProfile machine() {
    return machine;
  }

  public FlopsProvider flops() {
    return flops;
  }

  public BytesMovedProvider bytes() {
    return bytes;
  }

  public WorkspaceProvider workspace() {
    return workspace;
  }

  public ActivationMemoryProvider activations() {
    return activations;
  }

  public TimeProvider time() {
    return time;
  }

  /** The measured kernel times this model prefers to the roofline. */
  public TuningRecords tuning() {
    return tuning;
  }

  /** The forward direction of a mode. */
  public static Direction forward(Mode mode) {
    return mode == Mode.TRAIN ? Direction.FORWARD_TRAIN : Direction.FORWARD_INFER;
  }

  /** Whether the node's first input needs a gradient: everything but the network input. */
  public static boolean inputNeedsGrad(LogicalNode node) {
    return node.inputs().get(0) != 0;
  }

  /** How fusion changes what {@code op} moves. */
  public static FusionRole role(PhysicalPlan plan, PlanNode.Operator op) {
    if (op.fusionGroup() < 0) {
      return FusionRole.UNFUSED;
    }
    FusionGroup group = plan.fusionGroup(op.fusionGroup());
    int position = group.members().indexOf(op.id());
    boolean last = position == group.members().size() - 1;
    boolean folded = plan.request().mode() == Mode.INFER && op.logical().op() == Op.BATCHNORM2D
        && position > 0;
    return new FusionRole(position == 0, last, folded);
  }

  /** Whether {@code op}'s output is written to memory (not kept in registers inside a fusion group). */
  public static boolean materialized(PhysicalPlan plan, PlanNode.Operator op) {
    return role(plan, op).writesOutput();
  }

  /**
   * Estimated forward nanoseconds of {@code op} in {@code plan}. A fused ReLU whose producer's time
   * was measured costs only its arithmetic: the measurement already holds the output write that
   * the ReLU, applied in the producer's output loop, rides on.
   */
  public double forwardNanos(PhysicalPlan plan, PlanNode.Operator op) {
    int batch = plan.request().batchSize();
    FusionRole role = role(plan, op);
    Direction direction = forward(plan.request().mode());
    boolean grad = inputNeedsGrad(op.logical());
    if (!role.readsFirstInput() && !role.folded()) {
      PlanNode.Operator anchor = (PlanNode.Operator) plan.nodes().get(plan.fusionGroup(op.fusionGroup()).members().get(0));
      if (time.measured(anchor.logical(), anchor.implementation(), direction, anchor.threads(), batch)) {
        return time.epilogueNanos(op.logical(), op.implementation(), batch, direction, grad, role, op.threads());
      }
    }
    return time.nanos(op.logical(), op.implementation(), batch, direction, grad, role, op.threads());
  }

  /**
   * Estimated backward nanoseconds of {@code op} (0 for inference). A fused ReLU's backward is the
   * producer masking the output gradient, one pass like the ReLU's own backward: its measured
   * time when ANALYZE took it.
   */
  public double backwardNanos(PhysicalPlan plan, PlanNode.Operator op) {
    if (plan.request().mode() == Mode.INFER) {
      return 0;
    }
    int batch = plan.request().batchSize();
    FusionRole role = role(plan, op);
    if (!role.readsFirstInput() && !role.folded()
        && time.measured(op.logical(), op.implementation(), Direction.BACKWARD, op.threads(), batch)) {
      role = FusionRole.UNFUSED;
    }
    return time.nanos(op.logical(), op.implementation(), batch, Direction.BACKWARD, inputNeedsGrad(op.logical()), role,
        op.threads());
  }

  /** Peak workspace bytes of {@code op} over its passes. */
  public long workspaceBytes(PhysicalPlan plan, PlanNode.Operator op) {
    int batch = plan.request().batchSize();
    long fwd = workspace.bytes(op.logical(), op.implementation(), batch, op.threads(),
        forward(plan.request().mode()));
    if (plan.request().mode() == Mode.INFER) {
      return fwd;
    }
    return Math.max(fwd, workspace.bytes(op.logical(), op.implementation(), batch, op.threads(),
        Direction.BACKWARD));
  }

  /**
   * Bytes held for the whole step: weights (and batchnorm statistics), their gradients (the
   * executor's layers allocate them when built, inference included), for training the
   * optimizer's state, plus the input batch (two in training, {@link #TRAINING_INPUT_BATCHES}).
   */
  public static long persistentBytes(LogicalPlan logical, PlanRequest request) {
    long weights = 0;
    long trainable = 0;
    for (LogicalNode n : logical.nodes()) {
      weights += BytesMovedProvider.weightCount(n);
      trainable += BytesMovedProvider.trainableCount(n);
    }
    // The executor's layers hold a gradient per parameter from construction, inference included.
    long floats = weights + trainable;
    if (request.mode() == Mode.TRAIN) {
      floats += trainable * request.optimizerSlots();
    }
    int inputBatches = request.mode() == Mode.TRAIN ? TRAINING_INPUT_BATCHES : 1;
    floats += Shapes.numel(logical.shape(0)) * request.batchSize() * inputBatches;
    return floats * BytesMovedProvider.ELEMENT_BYTES;
  }

  /**
   * Peak bytes of an inference step: the persistent bytes, the workspace the executor holds for
   * the run ({@link WorkspaceProvider#heldBytes}: the shared im2col buffers, each NHWC layer's
   * im2row rows, partial weight gradients, folded and transformed weights), max pooling's argmax
   * buffers in blocked layouts (kept by the layer for the run), and a walk over the schedule
   * allocating each written output (one per fusion group, taken when its anchor runs) and each
   * converted copy in its layout's storage (NCHWc rounds channels up to whole blocks) and freeing
   * a tensor after its last reader. Scratch the kernels keep on the Java heap (GEMM packing, implicit GEMM's
   * padded image) is not counted, as {@code MemoryTracker} does not measure it.
   */
  public long inferencePeak(PhysicalPlan plan) {
    int batch = plan.request().batchSize();
    Map<Integer, Integer> remainingReaders = new HashMap<>();
    for (PlanNode n : plan.nodes()) {
      for (int in : n.inputs()) {
        remainingReaders.merge(in, 1, Integer::sum);
      }
    }
    Map<Integer, Long> live = new HashMap<>();
    long liveBytes = 0;
    long peak = 0;
    for (PlanNode n : plan.nodes()) {
      if (n instanceof PlanNode.Input) {
        continue; // counted with the persistent bytes
      }
      // A fusion group writes one output, the last member's, into a buffer taken when its anchor
      // runs, before the anchor's inputs are given back; it lives until the last member's readers ran.
      int owner = n.id();
      long out = switch (n) {
        case PlanNode.Input in -> 0;
        case PlanNode.Operator op when op.fusionGroup() >= 0 -> {
          List<Integer> members = plan.fusionGroup(op.fusionGroup()).members();
          owner = members.getLast();
          PlanNode.Operator last = (PlanNode.Operator) plan.nodes().get(owner);
          yield members.get(0) == op.id() ? tensorBytes(last.shape(), last.layout(), batch) : 0;
        }
        case PlanNode.Operator op -> tensorBytes(op.shape(), op.layout(), batch);
        case PlanNode.Conversion c -> tensorBytes(c.shape(), c.to(), batch);
      };
      liveBytes += out;
      live.merge(owner, out, Long::sum);
      peak = Math.max(peak, liveBytes);
      for (int in : n.inputs()) {
        if (remainingReaders.merge(in, -1, Integer::sum) == 0) {
          liveBytes -= live.getOrDefault(in, 0L);
        }
      }
    }
    long argmax = 0;
    for (PlanNode.Operator op : plan.operators()) {
      if (op.logical().op() == Op.MAXPOOL2D && op.implementation().inputLayout() != TensorLayout.NCHW) {
        // Max pooling in a blocked layout keeps an argmax buffer, inference included (NCHW keeps none).
        argmax += op.logical().outputNumel() * batch * Integer.BYTES;
      }
    }
    return persistentBytes(plan.logical(), plan.request()) + workspace.heldBytes(plan, this) + argmax + peak;
  }

  /** Bytes of a batch of tensors of per-sample {@code shape} stored in {@code layout}. */
  public static long tensorBytes(int[] shape, TensorLayout layout, int batch) {
    if (shape.length != 3) {
      return tensorBytes(shape, batch);
    }
    return layout.executorLayout().imageSize(shape[0], shape[1], shape[2]) * batch * BytesMovedProvider.ELEMENT_BYTES;
  }

  /** Bytes of a batch of tensors of per-sample {@code shape}. */
  public static long tensorBytes(int[] shape, int batch) {
    return Shapes.numel(shape) * batch * BytesMovedProvider.ELEMENT_BYTES;
  }

  /** Costs every node of {@code plan} and the totals. */
  public PlanCost cost(PhysicalPlan plan) {
    PlanRequest request = plan.request();
    int batch = request.batchSize();
    boolean training = request.mode() == Mode.TRAIN;
    List<PlanCost.NodeCost> perNode = new ArrayList<>();
    double step = 0;
    long totalFlops = 0;
    long recomputeFlops = 0;
    for (PlanNode n : plan.nodes()) {
      PlanCost.NodeCost c = switch (n) {
        case PlanNode.Input in -> PlanCost.NodeCost.ZERO;
        case PlanNode.Operator op -> operatorCost(plan, op);
        case PlanNode.Conversion conv -> {
          double t = time.conversionNanos(conv.shape(), conv.from(), conv.to(), batch, conv.threads());
          long moved = 2 * tensorBytes(conv.shape(), batch);
          // Training converts the gradient back on the way down.
          double back = training ? time.conversionNanos(conv.shape(), conv.to(), conv.from(), batch, conv.threads()) : 0;
          yield new PlanCost.NodeCost(t, back, 0, 0, training ? 2 * moved : moved,
              tensorBytes(conv.shape(), batch));
        }
      };
      perNode.add(c);
      step += c.totalNanos();
      totalFlops += c.flops();
      if (n instanceof PlanNode.Operator op && op.residency() == Residency.RECOMPUTED) {
        FusionRole role = role(plan, op);
        long f = flops.flops(op.logical(), op.implementation(), batch, Direction.FORWARD_TRAIN,
            inputNeedsGrad(op.logical()), role);
        recomputeFlops += f;
      }
    }
    long persistent = persistentBytes(plan.logical(), request);
    if (training) {
      step += updateNanos(plan);
    }
    long peak;
    if (training) {
      StageModel stages = StageModel.of(plan, this);
      // Training also holds the executor's run-long workspaces.
      persistent = stages.persistentBytes();
      CheckpointSchedule schedule = plan.checkpoints();
      peak = schedule != null ? schedule.peakBytes() : stages.evaluate(stages.storeAll()).peakBytes();
    } else {
      peak = inferencePeak(plan);
    }
    double epoch = request.epochSamples() > 0
        ? step * Math.ceil((double) request.epochSamples() / batch)
        : -1;
    return new PlanCost(perNode, step, epoch, totalFlops, recomputeFlops, persistent, peak);
  }

  private PlanCost.NodeCost operatorCost(PhysicalPlan plan, PlanNode.Operator op) {
    PlanRequest request = plan.request();
    int batch = request.batchSize();
    LogicalNode node = op.logical();
    FusionRole role = role(plan, op);
    boolean grad = inputNeedsGrad(node);
    Direction fwdDir = forward(request.mode());
    double fwd = forwardNanos(plan, op);
    double bwd = backwardNanos(plan, op);
    double recompute = op.residency() == Residency.RECOMPUTED ? fwd : 0;
    long f = flops.flops(node, op.implementation(), batch, fwdDir, grad, role);
    long moved = bytes.bytes(node, op.implementation(), batch, fwdDir, grad, role);
    if (request.mode() == Mode.TRAIN) {
      f += flops.flops(node, op.implementation(), batch, Direction.BACKWARD, grad, role);
      moved += bytes.bytes(node, op.implementation(), batch, Direction.BACKWARD, grad, role);
    }
    long memory = (role.writesOutput() ? tensorBytes(node.outputShape(), batch) : 0)
        + activations.saved(node, batch, request.mode()).privateBytes()
        + workspaceBytes(plan, op);
    return new PlanCost.NodeCost(fwd, bwd, recompute, f, moved, memory);
  }

  /** The optimizer step: memory-bound passes over every trainable value. */
  private double updateNanos(PhysicalPlan plan) {
    long trainable = 0;
    for (LogicalNode n : plan.logical().nodes()) {
      trainable += BytesMovedProvider.trainableCount(n);
    }
    long passes = UPDATE_PASSES_FIXED + (long) UPDATE_PASSES_PER_SLOT * plan.request().optimizerSlots();
    return (double) trainable * passes * BytesMovedProvider.ELEMENT_BYTES
        / machine.ceilings(machine.maxThreads()).bandwidthGbs();
  }
}
