package io.dlsql.planner.checkpoint;

import io.dlsql.planner.Mode;
import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.Op;
import io.dlsql.planner.cost.ActivationMemoryProvider;
import io.dlsql.planner.cost.BytesMovedProvider;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.cost.Direction;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.TensorLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A training plan seen as a chain of stages, the parts of the graph between consecutive
 * articulation points ({@link LogicalPlan#stageBoundaries()}): one stage per layer in a chain, one
 * per residual block in a ResNet. A recomputed segment only needs the tensor at its start, so
 * any choice of stored stages and recomputed segments is a sound schedule even with skip
 * connections; {@link #evaluate} is the memory walk such a schedule implies.
 *
 * <p>Memory of a step, in this model: the persistent bytes, plus everything stored so far (the
 * saved activations of stored stages and the checkpoints of recomputed segments, each boundary
 * tensor counted once), plus, while a segment runs, its transient part: for a stored stage the
 * larger of its forward liveness walk and its gradient liveness walk; for a recomputed segment
 * its stages' saved activations (recomputed and held together) and the largest such walk among
 * them. Backward visits segments last to first, so everything stored before a segment is still
 * held when it runs. An input converted into its reader's layout is held, in that layout's
 * storage, from the reader's forward to its backward, as the executor holds it.
 */
public final class StageModel {
  /** What one stage costs and saves. */
  public record Stage(
      int index,
      int inputTensor,
      int outputTensor,
      List<Integer> nodes,
      long internalSavedBytes,
      boolean savesInput,
      boolean savesOutput,
      long inputBytes,
      long outputBytes,
      long forwardTransientBytes,
      long backwardTransientBytes,
      double forwardNanos,
      long forwardFlops) {
    /** The larger of the two transient walks. */
    public long transientBytes() {
      return Math.max(forwardTransientBytes, backwardTransientBytes);
    }
  }

  /** What a schedule costs in this model. */
  public record Evaluation(long peakBytes, double recomputeNanos, long recomputeFlops) {}

  private final List<Stage> stages;
  private final long persistentBytes;

  StageModel(List<Stage> stages, long persistentBytes) {
    this.stages = List.copyOf(stages);
    this.persistentBytes = persistentBytes;
  }

  /** The stages of a training plan, with the plan's implementations, fusion and threads. */
  public static StageModel of(PhysicalPlan plan, CostModel cost) {
    if (plan.request().mode() != Mode.TRAIN) {
      throw new IllegalStateException("stages are for training plans");
    }
    LogicalPlan logical = plan.logical();
    int batch = plan.request().batchSize();
    ActivationMemoryProvider activations = cost.activations();
    List<Integer> boundaries = boundaries(plan);
    List<Stage> stages = new ArrayList<>();
    for (int s = 0; s + 1 < boundaries.size(); s++) {
      int a = boundaries.get(s);
      int b = boundaries.get(s + 1);
      List<Integer> nodes = new ArrayList<>();
      Set<Integer> saved = new HashSet<>();
      long privateBytes = 0;
      double nanos = 0;
      long flops = 0;
      for (int j = a; j < b; j++) {
        nodes.add(j);
        LogicalNode node = logical.node(j);
        ActivationMemoryProvider.Saved sv = activations.saved(node, batch, Mode.TRAIN);
        if (sv.input()) {
          saved.add(node.inputs().get(0));
        }
        // An unfused ReLU's backward reads its input's sign, and the executor keeps that instead
        // of the output (kept only for a reader that needs it); a fused one masks with the output
        // its producer wrote.
        boolean unfusedRelu = (node.op() == Op.RELU || node.op() == Op.LEAKY_RELU) && executorWrites(plan, j);
        if (unfusedRelu) {
          saved.add(node.inputs().get(0));
        } else if (sv.output()) {
          saved.add(node.output());
        }
        PlanNode.Operator op = plan.operator(j);
        TensorLayout layout = op.implementation().inputLayout();
        if (node.spec() instanceof LayerSpec.Pool p && p.max() && layout != TensorLayout.NCHW) {
          // Max pooling in a blocked layout keeps an int argmax per stored output (padding included).
          privateBytes += CostModel.tensorBytes(node.outputShape(), layout, batch);
        } else {
          privateBytes += sv.privateBytes();
        }
        for (int in : op.inputs()) {
          // Training holds an input converted into the node's layout until the node's backward.
          if (plan.nodes().get(in) instanceof PlanNode.Conversion c) {
            privateBytes += CostModel.tensorBytes(c.shape(), c.to(), batch);
          }
        }
        nanos += cost.forwardNanos(plan, op);
        flops += cost.flops().flops(node, op.implementation(), batch, Direction.FORWARD_TRAIN,
            CostModel.inputNeedsGrad(node), CostModel.role(plan, op));
      }
      long internal = privateBytes;
      for (int t : saved) {
        if (t > a && t < b) {
          internal += tensorBytes(plan, t, batch);
        }
      }
      long inBytes = a == 0 ? 0 : tensorBytes(plan, a, batch);
      long outBytes = tensorBytes(plan, b, batch);
      stages.add(new Stage(s, a, b, nodes, internal, saved.contains(a), saved.contains(b), inBytes,
          outBytes, forwardWalk(plan, cost, a, b, inBytes), backwardWalk(plan, cost, a, b, outBytes),
          nanos, flops));
    }
    return new StageModel(stages, CostModel.persistentBytes(logical, plan.request()) + heldWorkspaceBytes(plan, cost));
  }

  /**
   * Workspace the executor holds for the whole run rather than per operator: {@link
   * io.dlsql.planner.cost.WorkspaceProvider#heldBytes}.
   */
  public static long heldWorkspaceBytes(PhysicalPlan plan, CostModel cost) {
    return cost.workspace().heldBytes(plan, cost);
  }

  /**
   * The stage boundaries of a plan: the graph's articulation points that are written to memory
   * (a fused intermediate is not, so a stage never splits a fusion group).
   */
  public static List<Integer> boundaries(PhysicalPlan plan) {
    List<Integer> out = new ArrayList<>();
    List<Integer> all = plan.logical().stageBoundaries();
    for (int i = 0; i < all.size(); i++) {
      int b = all.get(i);
      if (b == 0 || i == all.size() - 1 || CostModel.materialized(plan, plan.operator(b - 1))) {
        out.add(b);
      }
    }
    return out;
  }

  /**
   * Bytes of a batch of logical tensor {@code tensor} as the executor stores it: in the layout its
   * producer writes (NCHWc rounds channels up to whole blocks); its gradient has the same size.
   */
  private static long tensorBytes(PhysicalPlan plan, int tensor, int batch) {
    TensorLayout layout = tensor == 0 ? TensorLayout.NCHW : plan.operator(tensor - 1).layout();
    return CostModel.tensorBytes(plan.logical().shape(tensor), layout, batch);
  }

  /**
   * Whether the executor writes node {@code j}'s output to a buffer of its own in training: every
   * node does except one its producer computes in place, a ReLU in the plan's fusion group after
   * the group's anchor (training plans fuse exactly where the executor does, {@code FusionPass};
   * with {@code fusion = off} nothing is fused and every node writes).
   */
  static boolean executorWrites(PhysicalPlan plan, int j) {
    PlanNode.Operator op = plan.operator(j);
    return op.fusionGroup() < 0 || plan.fusionGroup(op.fusionGroup()).members().get(0) == op.id();
  }

  /** Liveness walk of a stage's forward when it stores nothing: outputs freed after their last reader. */
  private static long forwardWalk(PhysicalPlan plan, CostModel cost, int a, int b, long inBytes) {
    LogicalPlan logical = plan.logical();
    int batch = plan.request().batchSize();
    Map<Integer, Integer> readers = new HashMap<>();
    for (int j = a; j < b; j++) {
      for (int in : logical.node(j).inputs()) {
        readers.merge(in, 1, Integer::sum);
      }
    }
    Map<Integer, Long> size = new HashMap<>();
    size.put(a, inBytes);
    long live = inBytes;
    long peak = live;
    for (int j = a; j < b; j++) {
      long out = tensorBytes(plan, j + 1, batch);
      if (!executorWrites(plan, j)) {
        // A ReLU its producer computes lives in the producer's buffer, which it now owns.
        int in = logical.node(j).inputs().get(0);
        out = 0;
        size.put(j + 1, size.getOrDefault(in, 0L));
        size.put(in, 0L);
      } else {
        size.put(j + 1, out);
      }
      live += out;
      peak = Math.max(peak, live);
      for (int in : logical.node(j).inputs()) {
        if (readers.merge(in, -1, Integer::sum) == 0) {
          live -= size.getOrDefault(in, 0L);
        }
      }
    }
    return peak;
  }

  /**
   * Liveness walk of a stage's gradients, last node first: each gradient lives from its first
   * writer to its producer's backward, and a second writer's gradient lives in a scratch buffer
   * while that writer runs.
   */
  private static long backwardWalk(PhysicalPlan plan, CostModel cost, int a, int b, long outBytes) {
    LogicalPlan logical = plan.logical();
    int batch = plan.request().batchSize();
    Set<Integer> liveGrads = new HashSet<>();
    liveGrads.add(b);
    long live = outBytes;
    long peak = live;
    for (int j = b - 1; j >= a; j--) {
      LogicalNode node = logical.node(j);
      // A gradient that a later reader already wrote arrives in a scratch buffer and is added.
      long scratch = 0;
      if (!executorWrites(plan, j)) {
        // A ReLU its producer computes: the producer differentiates it on the same gradient buffer.
        if (liveGrads.remove(j + 1)) {
          liveGrads.add(node.inputs().get(0));
        }
        continue;
      }
      for (int in : node.inputs()) {
        if (in == 0) {
          continue;
        }
        if (liveGrads.add(in)) {
          live += tensorBytes(plan, in, batch);
        } else {
          scratch += tensorBytes(plan, in, batch);
        }
      }
      peak = Math.max(peak, live + scratch);
      if (liveGrads.remove(j + 1)) {
        live -= tensorBytes(plan, j + 1, batch);
      }
    }
    return peak;
  }

  public List<Stage> stages() {
    return stages;
  }

  public long persistentBytes() {
    return persistentBytes;
  }

  /** Every stage stored: no recomputation. */
  public List<Segment> storeAll() {
    List<Segment> out = new ArrayList<>();
    for (int s = 0; s < stages.size(); s++) {
      out.add(new Segment(s, s, false));
    }
    return out;
  }

  /** Chen et al.'s baseline: segments of ceil(sqrt(n)) stages, each recomputed from its start. */
  public List<Segment> sqrtSegments() {
    int n = stages.size();
    int length = (int) Math.ceil(Math.sqrt(n));
    List<Segment> out = new ArrayList<>();
    for (int first = 0; first < n; first += length) {
      out.add(new Segment(first, Math.min(n, first + length) - 1, true));
    }
    return out;
  }

  /** Memory and recomputation of a schedule; the segments must cover the stages in order. */
  public Evaluation evaluate(List<Segment> segments) {
    State state = State.START;
    int expected = 0;
    for (Segment seg : segments) {
      if (seg.first() != expected) {
        throw new IllegalStateException("segments do not cover the stages in order: " + segments);
      }
      state = step(state, seg);
      expected = seg.last() + 1;
    }
    if (expected != stages.size()) {
      throw new IllegalStateException("segments stop at stage " + expected + " of " + stages.size());
    }
    return new Evaluation(persistentBytes + state.peak, state.nanos, state.flops);
  }

  /**
   * Memory walk state after some segments: bytes stored, the peak so far (persistent bytes not
   * included), recomputation so far, and whether the last boundary tensor is already stored.
   */
  record State(long stored, long peak, double nanos, long flops, boolean boundaryStored) {
    static final State START = new State(0, 0, 0, 0, true);
  }

  /** The state after running {@code seg} from {@code state}. */
  State step(State state, Segment seg) {
    if (!seg.recomputed()) {
      Stage s = stages.get(seg.first());
      long stored = state.stored + s.internalSavedBytes()
          + (s.savesInput() && !state.boundaryStored ? s.inputBytes() : 0)
          + (s.savesOutput() ? s.outputBytes() : 0);
      long peak = Math.max(state.peak, stored + s.transientBytes());
      return new State(stored, peak, state.nanos, state.flops, s.savesOutput());
    }
    Stage first = stages.get(seg.first());
    long stored = state.stored + (state.boundaryStored ? 0 : first.inputBytes());
    long held = 0;
    long transientMax = 0;
    double nanos = 0;
    long flops = 0;
    for (int i = seg.first(); i <= seg.last(); i++) {
      Stage s = stages.get(i);
      boolean inputHeld = i == seg.first() || stages.get(i - 1).savesOutput();
      held += s.internalSavedBytes() + (s.savesOutput() ? s.outputBytes() : 0)
          + (s.savesInput() && !inputHeld ? s.inputBytes() : 0);
      transientMax = Math.max(transientMax, s.transientBytes());
      nanos += s.forwardNanos();
      flops += s.forwardFlops();
    }
    long peak = Math.max(state.peak, stored + held + transientMax);
    return new State(stored, peak, state.nanos + nanos, state.flops + flops, false);
  }
}
