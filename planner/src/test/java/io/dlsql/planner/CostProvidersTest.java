package io.dlsql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import io.dlsql.planner.checkpoint.StageModel;
import io.dlsql.planner.cost.ActivationMemoryProvider;
import io.dlsql.planner.cost.BytesMovedProvider;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.cost.Direction;
import io.dlsql.planner.cost.FlopsProvider;
import io.dlsql.planner.cost.FusionRole;
import io.dlsql.planner.cost.KernelFingerprint;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TimeProvider;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.cost.WorkspaceProvider;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.TensorLayout;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Each cost provider on small shapes worked out by hand. The network: x (2, 5, 5) -> conv 3x3 to
 * 3 channels (3, 3, 3) -> ReLU -> maxpool 2 stride 1 (3, 2, 2) -> flatten (12) -> dense 3.
 */
class CostProvidersTest {
  static final NetworkSpec SPEC = new NetworkSpec("x", new int[] {2, 5, 5}, 3, List.of(
      Node.of("conv", Op.CONV2D, Map.of("out_channels", 3, "kernel", 3), "x"),
      Node.of("relu", Op.RELU, Map.of(), "conv"),
      Node.of("pool", Op.MAXPOOL2D, Map.of("kernel", 2, "stride", 1), "relu"),
      Node.of("flat", Op.FLATTEN, Map.of(), "pool"),
      Node.of("fc", Op.DENSE, Map.of("units", 3), "flat")), "fc");
  static final LogicalPlan LOGICAL = LogicalPlan.of(SPEC);
  static final KernelRegistry REGISTRY = KernelRegistry.prospective();

  static LogicalNode node(int i) {
    return LOGICAL.node(i);
  }

  static Implementation impl(LogicalNode n, String name) {
    return REGISTRY.candidates(n).stream()
        .filter(i -> i.name().equals(name) && i.inputLayout() == TensorLayout.NCHW).findFirst().orElseThrow();
  }

  @Test
  void flops() {
    FlopsProvider f = new FlopsProvider();
    LogicalNode conv = node(0);
    Implementation im2col = impl(conv, "im2col");
    // 27 outputs x 18 taps = 486 MACs per image; bias adds 27.
    assertEquals(2 * (2 * 486 + 27), f.flops(conv, im2col, 2, Direction.FORWARD_TRAIN, false, FusionRole.UNFUSED));
    // Backward of the first layer: weight gradient only (the input needs none), plus the bias sum.
    assertEquals(2 * (2 * 486 + 27), f.flops(conv, im2col, 2, Direction.BACKWARD, false, FusionRole.UNFUSED));
    assertEquals(2 * (4 * 486 + 27), f.flops(conv, im2col, 2, Direction.BACKWARD, true, FusionRole.UNFUSED));
    LogicalNode relu = node(1);
    assertEquals(27 * 4, f.flops(relu, impl(relu, "elementwise"), 4, Direction.FORWARD_INFER, true, FusionRole.UNFUSED));
    LogicalNode pool = node(2);
    // 12 outputs x a 2x2 window forward; one routed gradient per output backward.
    assertEquals(48, f.flops(pool, impl(pool, "pool"), 1, Direction.FORWARD_TRAIN, true, FusionRole.UNFUSED));
    assertEquals(12, f.flops(pool, impl(pool, "pool"), 1, Direction.BACKWARD, true, FusionRole.UNFUSED));
    LogicalNode fc = node(4);
    assertEquals(5 * (2 * 12 * 3 + 3), f.flops(fc, impl(fc, "gemm"), 5, Direction.FORWARD_INFER, true, FusionRole.UNFUSED));
    assertEquals(0, f.flops(conv, im2col, 2, Direction.FORWARD_INFER, false, new FusionRole(false, false, true)));
  }

  @Test
  void winogradPerformsAQuarterOfTheMultiplications() {
    NetworkSpec spec = new NetworkSpec("x", new int[] {8, 8, 8}, 512, List.of(
        Node.of("conv", Op.CONV2D, Map.of("out_channels", 8, "kernel", 3, "padding", 1, "bias", false), "x")), "conv");
    LogicalNode conv = LogicalPlan.of(spec).node(0);
    Implementation winograd = impl(conv, "winograd");
    long direct = 2L * 8 * 64 * 72;
    assertEquals(direct / 4, new FlopsProvider().flops(conv, winograd, 1, Direction.FORWARD_INFER, false, FusionRole.UNFUSED));
  }

  @Test
  void bytesMoved() {
    BytesMovedProvider b = new BytesMovedProvider();
    LogicalNode conv = node(0);
    // Per image: input 50 + output 27 + im2col matrix (18 x 9 = 162) written and read; weights 54 + 3 bias once.
    assertEquals(4L * (2 * (50 + 27 + 324) + 57),
        b.bytes(conv, impl(conv, "im2col"), 2, Direction.FORWARD_INFER, false, FusionRole.UNFUSED));
    // Direct convolution has no column matrix.
    assertEquals(4L * (2 * (50 + 27) + 57),
        b.bytes(conv, impl(conv, "direct"), 2, Direction.FORWARD_INFER, false, FusionRole.UNFUSED));
    // Fused anchor: reads its input, does not write its output.
    assertEquals(4L * (2 * (50 + 324) + 57),
        b.bytes(conv, impl(conv, "im2col"), 2, Direction.FORWARD_INFER, false, new FusionRole(true, false, false)));
    LogicalNode relu = node(1);
    // Backward: read dy and the saved output, write dx.
    assertEquals(4L * 3 * 27, b.bytes(relu, impl(relu, "elementwise"), 1, Direction.BACKWARD, true, FusionRole.UNFUSED));
    LogicalNode pool = node(2);
    // Training forward also writes the argmax indices.
    assertEquals(4L * (27 + 12 + 12), b.bytes(pool, impl(pool, "pool"), 1, Direction.FORWARD_TRAIN, true, FusionRole.UNFUSED));
  }

  @Test
  void workspace() {
    WorkspaceProvider w = new WorkspaceProvider();
    LogicalNode conv = node(0);
    Implementation im2col = impl(conv, "im2col");
    // Two images on four threads: two chunks, each with a 162-float column matrix.
    assertEquals(4L * 2 * 162, w.bytes(conv, im2col, 2, 4, Direction.FORWARD_TRAIN));
    // Backward adds one partial weight gradient (57 values) for the second chunk.
    assertEquals(4L * (2 * 162 + 57), w.bytes(conv, im2col, 2, 4, Direction.BACKWARD));
    assertEquals(0, w.bytes(conv, impl(conv, "direct"), 2, 4, Direction.BACKWARD));
  }

  @Test
  void activationMemory() {
    ActivationMemoryProvider a = new ActivationMemoryProvider();
    assertEquals(4L * 50 * 8, a.bytes(node(0), 8, Mode.TRAIN)); // conv keeps its input
    assertEquals(4L * 27 * 8, a.bytes(node(1), 8, Mode.TRAIN)); // ReLU keeps its output
    assertEquals(4L * 12 * 8, a.bytes(node(2), 8, Mode.TRAIN)); // max pool keeps int32 argmax
    assertEquals(0, a.bytes(node(3), 8, Mode.TRAIN)); // flatten keeps nothing
    assertEquals(4L * 12 * 8, a.bytes(node(4), 8, Mode.TRAIN)); // dense keeps its input
    assertEquals(0, a.bytes(node(0), 8, Mode.INFER));
  }

  @Test
  void rooflineTime() {
    TreeMap<Integer, MachineProfile.Ceilings> m = new TreeMap<>();
    m.put(1, new MachineProfile.Ceilings(10, 2));
    TimeProvider t = new TimeProvider(new MachineProfile(m), TuningRecords.empty(), new FlopsProvider(),
        new BytesMovedProvider());
    LogicalNode relu = node(1);
    // 100 images: 2700 FLOPs at 10 GFLOP/s x 0.25 efficiency = 1080 ns; 21600 bytes at 2 GB/s = 10800 ns.
    double expected = 10_800 + 1_000;
    assertEquals(expected, t.nanos(relu, impl(relu, "elementwise"), 100, Direction.FORWARD_INFER, true,
        FusionRole.UNFUSED, 1), 1e-6);
  }

  @Test
  void tuningRecordsOverrideTheRoofline() {
    LogicalNode conv = node(0);
    Implementation im2col = impl(conv, "im2col");
    String key = TuningRecords.key(conv, im2col, Direction.FORWARD_INFER, 1);
    TuningRecords records = TuningRecords.of(Map.of(key, TuningRecords.value(1234.5, 64)));
    TimeProvider t = new TimeProvider(MachineProfile.nominal(), records, new FlopsProvider(), new BytesMovedProvider());
    assertEquals(1234.5 * 10, t.nanos(conv, im2col, 10, Direction.FORWARD_INFER, false, FusionRole.UNFUSED, 1), 1e-9);
    // Another thread count or direction is not the same measurement.
    assertFalse(t.nanos(conv, im2col, 10, Direction.FORWARD_INFER, false, FusionRole.UNFUSED, 2) == 1234.5 * 10);
    assertTrue(key.contains("2x5x5") && key.contains("im2col/nchw") && key.contains("t1"), key);
  }

  @Test
  void inferencePeakIsALivenessWalk() {
    PlanRequest request = PlanRequest.infer(10, Map.of("fusion", "off", "threads", "1"));
    PhysicalPlan plan = new Planner(KernelRegistry.executable())
        .plan(SPEC, request, MachineProfile.nominal(), TuningRecords.empty());
    CostModel cost = new CostModel(MachineProfile.nominal(), TuningRecords.empty());
    // Weights and their gradients (the executor's layers hold both, inference included): conv 57,
    // dense 36 + 3; input 50 per image.
    long persistent = 4L * (2 * (57 + 39) + 10 * 50);
    assertEquals(persistent, CostModel.persistentBytes(LOGICAL, request));
    // Largest moment: conv's output (27) and ReLU's output (27) live while ReLU runs; on top, the
    // convolution workspace the executor holds for the whole run.
    long whileRelu = 4L * 10 * (27 + 27);
    long held = StageModel.heldWorkspaceBytes(plan, cost);
    // Max pooling in NCHW keeps no argmax in inference.
    assertEquals(persistent + held + whileRelu, cost.inferencePeak(plan));
  }

  @Test
  void machineProfileRoundTripsThroughTuningRecords() {
    MachineProfile p = MachineProfile.nominal();
    assertEquals(p, MachineProfile.fromTuningRecords(p.toTuningRecords()));
    assertEquals(p.ceilings(2), p.ceilings(16));
    assertEquals(null, MachineProfile.fromTuningRecords(Map.of()));
  }

  @Test
  void storedNumbersOfOtherExecutorCodeAreNotUsed() {
    String fingerprint = KernelFingerprint.current();
    // Computed from the executor's class files: stable within a process, hex, not per-process.
    assertEquals(fingerprint, KernelFingerprint.current());
    assertTrue(fingerprint.matches("[0-9a-f]{12}"), fingerprint);
    MachineProfile p = MachineProfile.nominal();
    Map<String, Map<String, String>> stale = p.toTuningRecords("0123456789ab");
    assertEquals(null, MachineProfile.fromTuningRecords(stale));
    assertEquals(p, MachineProfile.fromTuningRecords(stale, "0123456789ab"));

    LogicalNode conv = node(0);
    Implementation im2col = impl(conv, "im2col");
    String key = TuningRecords.key(conv, im2col, Direction.FORWARD_INFER, 1);
    assertTrue(key.startsWith(TuningRecords.KEY_PREFIX + fingerprint + ":"), key);
    String staleKey = key.replace(fingerprint, "0123456789ab");
    TuningRecords records = TuningRecords.of(Map.of(staleKey, TuningRecords.value(1234.5, 64)));
    assertEquals(0, records.size());
    TimeProvider t = new TimeProvider(p, records, new FlopsProvider(), new BytesMovedProvider());
    assertEquals(t.roofline(conv, im2col, 10, Direction.FORWARD_INFER, false, FusionRole.UNFUSED, 1),
        t.nanos(conv, im2col, 10, Direction.FORWARD_INFER, false, FusionRole.UNFUSED, 1), 1e-9);
  }

  @Test
  void channelBlockIsTheExecutors() {
    assertEquals(16, TensorLayout.CHANNEL_BLOCK);
    assertEquals(io.dlsql.executor.tensor.Layout.CHANNEL_BLOCK, TensorLayout.CHANNEL_BLOCK);
    assertEquals(io.dlsql.executor.kernel.layout.LayoutConversion.CHANNEL_BLOCK, TensorLayout.CHANNEL_BLOCK);
  }
}
