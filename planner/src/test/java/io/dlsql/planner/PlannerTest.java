package io.dlsql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.conv.ImplicitGemmConv2d;
import io.dlsql.executor.kernel.conv.StridedImplicitGemmConv2d;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import io.dlsql.planner.cost.Analyzer;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.cost.KernelFingerprint;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.explain.Explain;
import io.dlsql.planner.explain.ExplainRow;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import io.dlsql.planner.physical.TensorLayout;
import io.dlsql.planner.search.PlanBuilder;
import io.dlsql.planner.search.PlanVerifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The planner end to end: the search against brute force, settings, verification, EXPLAIN rows, ANALYZE. */
class PlannerTest {
  static final MachineProfile MACHINE = MachineProfile.nominal();
  static final NetworkSpec RESNET8 = Architectures.build("resnet", Map.of("depth", 8), new int[] {3, 12, 12}, 10);

  private static PhysicalPlan plan(KernelRegistry registry, NetworkSpec spec, PlanRequest request) {
    return new Planner(registry).plan(spec, request, MACHINE, TuningRecords.empty());
  }

  /** conv 3x3 -> ReLU -> conv 3x3 -> add (skip from the ReLU) -> ReLU -> global average pool -> dense. */
  static final NetworkSpec SKIP = new NetworkSpec("x", new int[] {8, 8, 8}, 10, List.of(
      Node.of("a", Op.CONV2D, Map.of("out_channels", 8, "kernel", 3, "padding", 1), "x"),
      Node.of("r", Op.RELU, Map.of(), "a"),
      Node.of("b", Op.CONV2D, Map.of("out_channels", 8, "kernel", 3, "padding", 1), "r"),
      new Node("sum", Op.ADD, Map.of(), List.of("b", "r")),
      Node.of("r2", Op.RELU, Map.of(), "sum"),
      Node.of("gap", Op.GLOBAL_AVGPOOL, Map.of(), "r2"),
      Node.of("fc", Op.DENSE, Map.of("units", 10), "gap")), "fc");

  @Test
  void searchIsOptimalAgainstBruteForceAndEveryUniformStrategy() {
    // With fusion and threads fixed, the algorithm_layout pass alone decides the time.
    PlanRequest request = PlanRequest.infer(8, Map.of("fusion", "off", "threads", "2"));
    KernelRegistry registry = KernelRegistry.prospective();
    double best = plan(registry, SKIP, request).cost().stepNanos();
    LogicalPlan logical = LogicalPlan.of(SKIP);
    CostModel cost = new CostModel(MACHINE, TuningRecords.empty());
    List<List<Implementation>> options = new ArrayList<>();
    for (var node : logical.nodes()) {
      options.add(registry.candidates(node));
    }
    assertEquals(bruteForce(logical, request, options, cost, new ArrayList<>()), best, 1e-9 * best);
    for (String algorithm : registry.convAlgorithms()) {
      for (TensorLayout layout : TensorLayout.values()) {
        PlanRequest forced = PlanRequest.infer(8, Map.of("fusion", "off", "threads", "2",
            "conv_algorithm", algorithm, "layout", layout.sqlName()));
        assertTrue(plan(registry, RESNET8, forced).cost().stepNanos()
                >= plan(registry, RESNET8, request).cost().stepNanos() - 1e-6,
            algorithm + "/" + layout);
      }
    }
  }

  /** The least step time over every combination of one implementation per node. */
  private static double bruteForce(LogicalPlan logical, PlanRequest request, List<List<Implementation>> options,
      CostModel cost, List<Implementation> chosen) {
    if (chosen.size() == options.size()) {
      List<PlanNode> nodes = PlanBuilder.build(logical, request, chosen, 2);
      PhysicalPlan p = new PhysicalPlan(logical, request, nodes, List.of(), null, List.of(), null);
      return cost.cost(p).stepNanos();
    }
    double best = Double.MAX_VALUE;
    for (Implementation i : options.get(chosen.size())) {
      chosen.add(i);
      best = Math.min(best, bruteForce(logical, request, options, cost, chosen));
      chosen.remove(chosen.size() - 1);
    }
    return best;
  }

  @Test
  void plannerOffIsTheExecutorDefault() {
    PhysicalPlan p = plan(KernelRegistry.executable(), RESNET8, PlanRequest.train(16, 0, 0, Map.of("planner", "off")));
    assertTrue(p.fusionGroups().isEmpty());
    assertTrue(p.passes().stream().noneMatch(r -> r.enabled()));
    for (PlanNode.Operator op : p.operators()) {
      assertEquals(TensorLayout.NCHW, op.layout());
      if (op.logical().geometry() != null) {
        // The executor's own default: implicit GEMM on stride 1, strided implicit GEMM on stride 2,
        // im2col elsewhere.
        ConvGeometry g = op.logical().geometry();
        String expected = ImplicitGemmConv2d.supports(g) ? "implicit_gemm"
            : StridedImplicitGemmConv2d.supports(g) ? "strided_implicit_gemm" : "im2col";
        assertEquals(expected, op.implementation().name(), op.logical().name());
      }
    }
  }

  @Test
  void mobileNetUsesTheDepthwiseKernel() {
    NetworkSpec mobilenet = Architectures.build("mobilenet", Map.of(), new int[] {1, 28, 28}, 10);
    PhysicalPlan p = plan(KernelRegistry.executable(), mobilenet, PlanRequest.infer(32, Map.of()));
    assertTrue(p.operators().stream().filter(o -> o.logical().name().endsWith(".dw"))
        .allMatch(o -> o.implementation().name().equals("depthwise")));
  }

  @Test
  void settingsAreChecked() {
    assertThrows(UserException.class, () -> PlannerSettings.of(Map.of("fusion", "maybe")));
    assertThrows(UserException.class, () -> PlannerSettings.of(Map.of("threads", "0")));
    assertThrows(UserException.class, () -> PlannerSettings.of(Map.of("checkpointing", "always")));
    UserException e = assertThrows(UserException.class, () -> plan(KernelRegistry.executable(), RESNET8,
        PlanRequest.infer(4, Map.of("conv_algorithm", "fft"))));
    assertTrue(e.getMessage().contains("not a convolution algorithm"), e.getMessage());
    // Keys of other modules pass through untouched; keys are case-insensitive.
    PlannerSettings s = PlannerSettings.of(Map.of("Fusion", "OFF", "batch_rows", "7"));
    assertFalse(s.fusionOn());
  }

  @Test
  void verifierRejectsABrokenPlan() {
    PhysicalPlan p = plan(KernelRegistry.prospective(), RESNET8, PlanRequest.infer(4, Map.of("fusion", "off")));
    List<PlanNode> nodes = new ArrayList<>(p.nodes());
    PlanNode.Operator conv = p.operator(1);
    Implementation other = KernelRegistry.prospective().candidates(conv.logical()).stream()
        .filter(i -> i.inputLayout() != conv.implementation().inputLayout()).findFirst().orElseThrow();
    nodes.set(conv.id(), conv.withImplementation(other, conv.inputs(), conv.id()));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> PlanVerifier.verify(p.withNodes(nodes), KernelRegistry.prospective()));
    assertTrue(e.getMessage().contains("needs"), e.getMessage());
  }

  @Test
  void explainRowsCoverEveryNodeAndTotal() {
    PhysicalPlan p = plan(KernelRegistry.executable(), RESNET8, PlanRequest.train(16, 0, 1600, Map.of()));
    List<ExplainRow> rows = Explain.rows(p);
    long operators = rows.stream().filter(r -> r.kind() == ExplainRow.Kind.OPERATOR).count();
    assertEquals(p.logical().nodes().size(), operators);
    double sum = rows.stream().filter(r -> r.kind() == ExplainRow.Kind.STAGE).mapToDouble(ExplainRow::estimatedMs).sum();
    ExplainRow step = rows.stream().filter(r -> r.name().equals("time per batch")).findFirst().orElseThrow();
    assertTrue(step.estimatedMs() >= sum && step.estimatedMs() < sum * 1.1, sum + " vs " + step);
    ExplainRow epoch = rows.stream().filter(r -> r.name().equals("time per epoch")).findFirst().orElseThrow();
    assertEquals(step.estimatedMs() * 100, epoch.estimatedMs(), 1e-6);
    assertTrue(Explain.render(rows, true).contains("pass algorithm_layout on"));
  }

  @Test
  void analyzerMeasuresEveryExecutableImplementation() {
    NetworkSpec tiny = Architectures.build("lenet5", Map.of(), new int[] {1, 12, 12}, 10);
    Analyzer.Analysis analysis = new Analyzer(KernelRegistry.executable(), MACHINE)
        .analyze(tiny, Mode.TRAIN, new Analyzer.Settings(2, 1, 1, Analyzer.Settings.DEFAULT_SKIP_FACTOR));
    Map<String, Map<String, String>> records = analysis.records();
    // conv1 (1x12x12 -> 6x12x12): im2col nchw/nhwc, implicit GEMM nchw, spatial pack nchwc, each
    // forward and backward; direct is skipped (the roofline puts it far behind) and says why. On
    // conv2's 2x2 output the call overhead dominates every roofline, so direct is timed there.
    String prefix = TuningRecords.KEY_PREFIX + KernelFingerprint.current() + ":conv2d:1x12x12,";
    List<String> conv1 = records.keySet().stream().filter(k -> k.startsWith(prefix)).toList();
    assertEquals(8, conv1.size(), conv1.toString());
    for (String impl : List.of(":im2col/nchw:", ":im2col/nhwc:", ":implicit_gemm/nchw:", ":spatial_pack/nchwc:")) {
      assertEquals(2, conv1.stream().filter(k -> k.contains(impl)).count(), impl);
    }
    assertTrue(analysis.skipped().stream().anyMatch(s -> s.node().equals("conv1")
        && s.implementation().equals("direct/nchw") && s.reason().contains("roofline")), analysis.skipped().toString());
    // Conversions between the layouts, timed as their own records.
    assertTrue(records.keySet().stream().anyMatch(k -> k.startsWith(TuningRecords.CONVERSION_PREFIX)
        && k.contains("nchw->nchwc")), records.keySet().toString());
    for (Map<String, String> v : records.values()) {
      assertTrue(Double.parseDouble(v.get(TuningRecords.NANOS_PER_SAMPLE)) > 0);
    }
    // The planner then uses the measurements instead of the roofline.
    PlanRequest request = PlanRequest.train(2, 0, 0, Map.of("threads", "1", "fusion", "off"));
    PhysicalPlan measured = new Planner(KernelRegistry.executable()).plan(tiny, request, MACHINE, TuningRecords.of(records));
    PhysicalPlan roofline = new Planner(KernelRegistry.executable()).plan(tiny, request, MACHINE, TuningRecords.empty());
    assertFalse(measured.cost().stepNanos() == roofline.cost().stepNanos());
  }
}
