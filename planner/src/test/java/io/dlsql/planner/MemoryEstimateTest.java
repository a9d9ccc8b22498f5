package io.dlsql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.optim.Sgd;
import io.dlsql.executor.tensor.MemoryTracker;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.physical.PhysicalPlan;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The planner's peak memory is what the executor allocates: a plan is bound to a network, run for
 * a few steps as EXPLAIN ANALYZE runs it (training: two input batches, SGD with momentum), and the
 * estimated peak is compared with {@code MemoryTracker}'s peak above what was live before the
 * network was built. Forced layouts, algorithms and fusion off cover each kernel's buffers (im2row
 * rows per NHWC layer, Winograd's transformed weights, folded batchnorm, unfused ReLUs), so a
 * kernel that starts allocating differently fails here.
 */
class MemoryEstimateTest {
  private static final int BATCH = 8;
  private static final int[] INPUT = {1, 16, 16};
  /**
   * Allowed |estimated / measured - 1|: inference walks match to the byte; the training stage
   * model is within 2.5% at this small batch (its per-stage transient is a bound, not a replay).
   */
  private static final double TOLERANCE = 0.03;

  @ParameterizedTest(name = "{0} {1} {2}")
  @CsvSource({
      "resnet, train, ''", "resnet, infer, ''", "resnet, train, layout=nhwc", "resnet, infer, layout=nhwc",
      "resnet, train, layout=nchwc", "resnet, infer, layout=nchwc", "resnet, train, fusion=off",
      "resnet, infer, fusion=off", "resnet, train, conv_algorithm=winograd", "resnet, infer, conv_algorithm=im2col",
      "mobilenet, train, ''", "mobilenet, infer, ''", "mobilenet, train, fusion=off", "mobilenet, infer, layout=nhwc",
      "convnet, train, ''", "convnet, infer, ''", "convnet, infer, layout=nchwc", "convnet, train, fusion=off"})
  void estimatedPeakIsMeasuredPeak(String arch, String mode, String settings) {
    Map<String, String> set = new HashMap<>();
    for (String kv : settings.isEmpty() ? new String[0] : settings.split(";")) {
      set.put(kv.split("=")[0], kv.split("=")[1]);
    }
    NetworkSpec spec = Architectures.build(arch, arch.equals("resnet") ? Map.of("depth", 8) : Map.of(), INPUT, 10);
    boolean training = mode.equals("train");
    PlanRequest request = training ? PlanRequest.train(BATCH, 0, 0, set) : PlanRequest.infer(BATCH, set);
    PhysicalPlan plan = Planner.forExecutor().plan(spec, request, MachineProfile.nominal(), TuningRecords.empty());
    long measured = measuredPeak(spec, plan, training);
    double ratio = (double) plan.cost().peakBytes() / measured;
    assertTrue(Math.abs(ratio - 1) <= TOLERANCE,
        arch + " " + mode + " " + set + ": estimated " + plan.cost().peakBytes() + " B, measured " + measured + " B");
  }

  /** Inference plans fold each convolution's batchnorm (and its ReLU) as the executor does, and say so. */
  @Test
  void inferencePlansFoldBatchnormIntoTheConvolution() {
    NetworkSpec spec = Architectures.build("resnet", Map.of("depth", 8), INPUT, 10);
    PhysicalPlan plan = Planner.forExecutor().plan(spec, PlanRequest.infer(BATCH, Map.of()), MachineProfile.nominal(),
        TuningRecords.empty());
    assertTrue(plan.fusionGroups().stream().anyMatch(g -> g.label().equals("conv1+bn1+relu1")), plan.fusionGroups()
        .toString());
    PhysicalPlan off = Planner.forExecutor().plan(spec, PlanRequest.infer(BATCH, Map.of("fusion", "off")),
        MachineProfile.nominal(), TuningRecords.empty());
    try (Network net = Network.build(spec, 1)) {
      PlanBinding.apply(plan, net);
      assertTrue(net.fusedNodes().contains("bn1 -> conv1 (evaluation)"), net.fusedNodes().toString());
      assertTrue(net.fusedNodes().contains("relu1 -> bn1"), net.fusedNodes().toString());
      PlanBinding.apply(off, net);
      assertEquals(List.of(), net.fusedNodes());
    }
  }

  private static long measuredPeak(NetworkSpec spec, PhysicalPlan plan, boolean training) {
    long baseline = MemoryTracker.liveBytes();
    int inputs = training ? CostModel.TRAINING_INPUT_BATCHES : 1;
    Tensor[] x = new Tensor[inputs];
    try (Network net = Network.build(spec, 1); Tensor grad = Tensor.zeros(BATCH, spec.classes());
        Sgd sgd = new Sgd(0.9, false, 0)) {
      assertEquals(List.of(), PlanBinding.apply(plan, net));
      for (int b = 0; b < inputs; b++) {
        x[b] = Tensor.zeros(BATCH, INPUT[0], INPUT[1], INPUT[2]);
      }
      int[] labels = new int[BATCH];
      SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0);
      for (int step = 0; step < 3; step++) {
        if (step == 1) {
          MemoryTracker.resetPeak();
        }
        Tensor logits = net.forward(x[step % inputs], training);
        if (training) {
          loss.forward(logits, labels, BATCH, grad);
          net.backward(grad);
          sgd.step(net.parameters(), 0);
        }
      }
      return MemoryTracker.peakBytes() - baseline;
    } finally {
      for (Tensor t : x) {
        if (t != null) {
          t.close();
        }
      }
    }
  }
}
