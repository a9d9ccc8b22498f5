package io.dlsql.planner.search;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Op;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.PlannerSettings;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.cost.Direction;
import io.dlsql.planner.cost.FusionRole;
import io.dlsql.planner.cost.PlanCost;
import io.dlsql.planner.cost.TimeProvider;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.TensorLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Pass {@code algorithm_layout}: exact dynamic programming over the graph in topological order
 * choosing every node's implementation (algorithm and layout) and the layout conversions between
 * them, minimising the estimated step time. The DP state is, for every image tensor that is
 * live at that point (written, with a reader still to come), the layout it was written in; a
 * reader that wants another layout pays a conversion of its own (as the executor converts per
 * reader), and in training the conversion of its gradient back. Because skip connections keep
 * their tensors in the state until their last reader, the result is optimal for DAGs as well as
 * chains; the state count is at most 3 to the power of the number of live image tensors (two or
 * three in ResNets).
 *
 * <p>Conversion margin: when comparing plans the search charges every conversion {@code 1 +
 * conversion_margin} times its estimate ({@link PlannerSettings#conversionMargin()}), so a layout
 * change is taken only when what it gains exceeds its conversions' demonstrated estimate error
 * (inside a network a conversion also takes a buffer of its own and reads a tensor another kernel
 * just wrote; layers that convert measured up to 2.6 times their estimate at two threads). The plan's reported cost
 * stays the unweighted estimate ({@code CostModel}); the margin decides, it does not price.
 *
 * <p>Fused comparison: the DP prices operators unfused, and the {@code fusion} pass after it folds a
 * batchnorm into its convolution and fuses a ReLU only where they share a layout, so a layout
 * change can cost a fusion the DP did not see. Unless a layout is forced, the DP's plan is
 * therefore compared with the best plan in each single layout (the same DP, image operators kept
 * to that layout) by {@link #fusedCost}, the estimated step after fusion with conversions weighted
 * as above, and the cheapest is kept: the plan never loses to a single-layout plan on its own
 * estimate.
 */
public final class LayoutAlgorithmSearch implements PlanPass {
  /** Bits per live tensor in a state key: a set of up to three layouts. */
  private static final int BITS_PER_TENSOR = 3;
  /** State keys are longs: at most this many live image tensors. */
  static final int MAX_LIVE_TENSORS = 21;

  @Override
  public String name() {
    return "algorithm_layout";
  }

  @Override
  public boolean enabled(PlanRequest request) {
    return true;
  }

  private record Choice(double cost, Choice parent, Implementation impl) {}

  @Override
  public PhysicalPlan apply(PhysicalPlan plan, PlanContext context) {
    LogicalPlan logical = plan.logical();
    List<List<Implementation>> candidates = candidates(logical, plan.request(), context);
    int oldThreads = plan.operators().isEmpty() ? context.cost().machine().maxThreads() : plan.operators().get(0).threads();
    PhysicalPlan best = plan.withFusion(PlanBuilder.build(logical, plan.request(), search(logical, plan.request(), candidates,
        context), oldThreads), List.of());
    if (context.settings().layout().isPresent()) {
      return best;
    }
    // The DP prices operators unfused; the fusion pass then folds and fuses only where neighbours
    // share a layout, so a plan that stays in one layout can end up cheaper than the DP's. Judge
    // the DP's plan against the best plan in each single layout by the cost after fusion.
    double bestCost = fusedCost(best, context);
    for (TensorLayout layout : context.registry().layouts()) {
      List<List<Implementation>> only = inLayout(candidates, logical, layout);
      PhysicalPlan single = plan.withFusion(PlanBuilder.build(logical, plan.request(), search(logical, plan.request(), only,
          context), oldThreads), List.of());
      double cost = fusedCost(single, context);
      if (cost < bestCost) {
        best = single;
        bestCost = cost;
      }
    }
    return best;
  }

  /**
   * What the search compares whole plans by: the estimated step after the fusion pass (when it
   * runs), each conversion counted {@code 1 + conversion_margin} times as in the DP.
   */
  static double fusedCost(PhysicalPlan plan, PlanContext context) {
    FusionPass fusion = new FusionPass();
    PhysicalPlan fused = context.settings().fusionOn() && fusion.enabled(plan.request()) ? fusion.apply(plan, context) : plan;
    PlanCost cost = context.cost().cost(fused);
    double conversions = 0;
    for (PlanNode node : fused.nodes()) {
      if (node instanceof PlanNode.Conversion) {
        conversions += cost.nodes().get(node.id()).totalNanos();
      }
    }
    return cost.stepNanos() + context.settings().conversionMargin() * conversions;
  }

  /** The candidates with image inputs kept to {@code layout} where a node has some in it. */
  private static List<List<Implementation>> inLayout(List<List<Implementation>> candidates, LogicalPlan logical,
      TensorLayout layout) {
    List<List<Implementation>> out = new ArrayList<>();
    for (LogicalNode node : logical.nodes()) {
      List<Implementation> list = candidates.get(node.index());
      if (node.inputShapes().get(0).length == 3) {
        List<Implementation> kept = list.stream().filter(i -> i.inputLayout() == layout).toList();
        list = kept.isEmpty() ? list : kept;
      }
      out.add(list);
    }
    return out;
  }

  /** The DP: every node's implementation, minimising the step with conversions weighted by the margin. */
  private static List<Implementation> search(LogicalPlan logical, PlanRequest request,
      List<List<Implementation>> candidates, PlanContext context) {
    List<List<Integer>> live = liveImageTensors(logical);
    int threads = context.cost().machine().maxThreads();
    TimeProvider time = context.cost().time();
    boolean training = request.mode() == Mode.TRAIN;
    double conversionWeight = 1 + request.settings().conversionMargin();
    Map<Long, Choice> states = new HashMap<>();
    // The data arrives in NCHW.
    states.put(encode(live.get(0), Map.of(0, bit(TensorLayout.NCHW))), new Choice(0, null, null));
    for (LogicalNode node : logical.nodes()) {
      List<Integer> before = live.get(node.index());
      List<Integer> after = live.get(node.index() + 1);
      double[] nodeNanos = new double[candidates.get(node.index()).size()];
      for (int c = 0; c < nodeNanos.length; c++) {
        nodeNanos[c] = operatorNanos(time, node, candidates.get(node.index()).get(c), request, threads);
      }
      Map<Long, Choice> next = new HashMap<>();
      for (Map.Entry<Long, Choice> e : states.entrySet()) {
        Map<Integer, Integer> layouts = decode(e.getKey(), before);
        for (int c = 0; c < nodeNanos.length; c++) {
          Implementation impl = candidates.get(node.index()).get(c);
          Map<Integer, Integer> updated = new HashMap<>(layouts);
          double cost = e.getValue().cost() + nodeNanos[c];
          for (int slot = 0; slot < node.inputs().size(); slot++) {
            int tensor = node.inputs().get(slot);
            int[] shape = node.inputShapes().get(slot);
            if (shape.length != 3) {
              continue;
            }
            TensorLayout have = layoutOf(updated.get(tensor));
            TensorLayout want = impl.inputLayoutFor(shape);
            if (have != want) {
              // Every reader converts for itself (the executor holds a converted copy per reader),
              // and training converts its gradient back.
              double conversion = time.conversionNanos(shape, have, want, request.batchSize(), threads);
              if (training) {
                conversion += time.conversionNanos(shape, want, have, request.batchSize(), threads);
              }
              cost += conversionWeight * conversion;
            }
          }
          updated.put(node.output(), bit(impl.outputLayoutFor(node.outputShape())));
          long key = encode(after, updated);
          Choice old = next.get(key);
          if (old == null || cost < old.cost()) {
            next.put(key, new Choice(cost, e.getValue(), impl));
          }
        }
      }
      states = next;
    }
    Choice best = null;
    for (Choice c : states.values()) {
      if (best == null || c.cost() < best.cost()) {
        best = c;
      }
    }
    List<Implementation> chosen = new ArrayList<>();
    for (Choice c = best; c != null && c.impl() != null; c = c.parent()) {
      chosen.add(0, c.impl());
    }
    return chosen;
  }

  /** Time of a node under an implementation, forward and (training) backward, unfused. */
  static double operatorNanos(TimeProvider time, LogicalNode node, Implementation impl,
      PlanRequest request, int threads) {
    boolean grad = CostModel.inputNeedsGrad(node);
    double t = time.nanos(node, impl, request.batchSize(), CostModel.forward(request.mode()), grad,
        FusionRole.UNFUSED, threads);
    if (request.mode() == Mode.TRAIN) {
      t += time.nanos(node, impl, request.batchSize(), Direction.BACKWARD, grad, FusionRole.UNFUSED, threads);
    }
    return t;
  }

  /**
   * Candidates per node after the settings: a forced algorithm replaces the convolution
   * candidates where it applies, a forced layout keeps the implementations in that layout where
   * there are some; elsewhere the node keeps all its candidates.
   */
  static List<List<Implementation>> candidates(LogicalPlan logical, PlanRequest request, PlanContext context) {
    KernelRegistry registry = context.registry();
    PlannerSettings settings = context.settings();
    settings.convAlgorithm().ifPresent(a -> checkAlgorithm(a, registry));
    settings.layout().ifPresent(l -> checkLayout(l, registry));
    List<List<Implementation>> out = new ArrayList<>();
    for (LogicalNode node : logical.nodes()) {
      List<Implementation> all = registry.candidates(node);
      List<Implementation> list = all;
      if (node.op() == Op.CONV2D && settings.convAlgorithm().isPresent()) {
        List<Implementation> forced =
            list.stream().filter(i -> i.name().equals(settings.convAlgorithm().get())).toList();
        list = forced.isEmpty() ? list : forced;
      }
      if (settings.layout().isPresent() && node.inputShapes().get(0).length == 3) {
        TensorLayout layout = settings.layout().get();
        List<Implementation> forced = list.stream().filter(i -> i.inputLayout() == layout).toList();
        list = forced.isEmpty() ? list : forced;
      }
      if (list.isEmpty()) {
        throw new IllegalStateException("no implementation computes " + node.name() + " (" + node.op() + ")");
      }
      out.add(measuredFirst(list, node, request, context));
    }
    return out;
  }

  /**
   * Measured beats unmeasured: where ANALYZE measured some of a node's candidates, the ones it did
   * not (skipped as more than {@code skip_factor} times the best roofline, or never analyzed) are
   * left out, since their roofline price has the roofline's error and no record to bound it (im2col
   * on MobileNet's last depthwise layer: roofline 19.8 ms, 71.8 ms measured in the network, chosen
   * over measured depthwise kernels). Without any record for the node every candidate stays.
   */
  static List<Implementation> measuredFirst(List<Implementation> list, LogicalNode node, PlanRequest request,
      PlanContext context) {
    TimeProvider time = context.cost().time();
    int threads = context.cost().machine().maxThreads();
    Direction forward = CostModel.forward(request.mode());
    List<Implementation> measured = list.stream()
        .filter(i -> time.measured(node, i, forward, threads, request.batchSize()))
        .toList();
    return measured.isEmpty() ? list : measured;
  }

  private static void checkAlgorithm(String algorithm, KernelRegistry registry) {
    if (registry.convAlgorithms().contains(algorithm)) {
      return;
    }
    boolean known = KernelRegistry.prospective().convAlgorithms().contains(algorithm);
    throw new UserException("conv_algorithm '" + algorithm + "' "
        + (known ? "has no kernel in the executor yet" : "is not a convolution algorithm")
        + "; available: " + String.join(", ", registry.convAlgorithms()) + " or auto");
  }

  private static void checkLayout(TensorLayout layout, KernelRegistry registry) {
    if (!registry.layouts().contains(layout)) {
      throw new UserException("layout " + layout.sqlName() + " has no kernels in the executor yet; available: "
          + String.join(", ", registry.layouts().stream().map(TensorLayout::sqlName).toList()) + " or auto");
    }
  }

  /** Per step k (before node k; k = n after the last), the live image tensors, ascending. */
  static List<List<Integer>> liveImageTensors(LogicalPlan logical) {
    int n = logical.nodes().size();
    int[] lastReader = new int[logical.tensorCount()];
    java.util.Arrays.fill(lastReader, -1);
    for (LogicalNode node : logical.nodes()) {
      for (int t : node.inputs()) {
        lastReader[t] = Math.max(lastReader[t], node.index());
      }
    }
    List<List<Integer>> out = new ArrayList<>();
    for (int k = 0; k <= n; k++) {
      List<Integer> live = new ArrayList<>();
      // Tensors 0..k exist before node k.
      for (int t = 0; t <= k; t++) {
        if (lastReader[t] >= k && logical.shape(t).length == 3) {
          live.add(t);
        }
      }
      if (live.size() > MAX_LIVE_TENSORS) {
        throw new IllegalStateException("more than " + MAX_LIVE_TENSORS + " live image tensors before node " + k);
      }
      out.add(live);
    }
    return out;
  }

  private static int bit(TensorLayout layout) {
    return 1 << layout.ordinal();
  }

  private static TensorLayout layoutOf(int bit) {
    return TensorLayout.values()[Integer.numberOfTrailingZeros(bit)];
  }

  private static long encode(List<Integer> live, Map<Integer, Integer> layouts) {
    long key = 0;
    for (int t : live) {
      key = (key << BITS_PER_TENSOR) | layouts.get(t);
    }
    return key;
  }

  private static Map<Integer, Integer> decode(long key, List<Integer> live) {
    Map<Integer, Integer> out = new HashMap<>();
    long mask = (1L << BITS_PER_TENSOR) - 1;
    for (int i = live.size() - 1; i >= 0; i--) {
      out.put(live.get(i), (int) (key & mask));
      key >>>= BITS_PER_TENSOR;
    }
    return out;
  }
}
