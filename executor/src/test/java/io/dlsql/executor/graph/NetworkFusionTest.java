package io.dlsql.executor.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fusion changes where work happens, not what is computed: a network with ReLUs fused into their
 * producers trains bit for bit like one without, and evaluation with batchnorm folded into the
 * convolutions matches unfolded evaluation to float rounding.
 */
class NetworkFusionTest {
  private static final double FOLD_TOL = 1e-5;
  private static final int BATCH = 4;

  private static Tensor input(int[] shape, long seed) {
    Rng rng = new Rng(seed);
    Tensor x = Tensor.zeros(BATCH, shape[0], shape[1], shape[2]);
    for (long i = 0; i < x.numel(); i++) {
      x.setFlat(i, (float) rng.uniform(0, 1));
    }
    return x;
  }

  private static void disableFusion(Network net) {
    for (var layer : net.layers()) {
      net.choose(layer.name(), new Network.NodeChoice(null, false, false));
    }
  }

  /** Two SGD-free steps: logits and every gradient after a training forward and backward. */
  private static float[][] trainStep(Network net, Tensor x, int[] labels) {
    Tensor grad = Tensor.zeros(BATCH, 10);
    try (grad) {
      net.setStepSeed(3);
      Tensor logits = net.forward(x, true);
      float[] out = logits.toFloatArray();
      new SoftmaxCrossEntropy(0).forward(logits, labels, BATCH, grad);
      net.backward(grad);
      List<Parameter> ps = net.parameters();
      float[][] all = new float[ps.size() + 1][];
      all[0] = out;
      for (int i = 0; i < ps.size(); i++) {
        all[i + 1] = ps.get(i).grad().toFloatArray();
      }
      return all;
    }
  }

  @Test
  void fusedReluTrainsExactlyLikeSeparateRelu() {
    for (String arch : List.of("convnet", "resnet")) {
      NetworkSpec spec = Architectures.build(arch, arch.equals("resnet") ? Map.of("depth", 8) : Map.of(),
          new int[] {1, 12, 12}, 10);
      int[] labels = {1, 7, 3, 0};
      try (Network fused = Network.build(spec, 5);
          Network plain = Network.build(spec, 5);
          Tensor x = input(spec.inputShape(), 6)) {
        disableFusion(plain);
        assertFalse(fused.fusedNodes().isEmpty(), arch + " has ReLUs to fuse");
        assertTrue(plain.fusedNodes().isEmpty());
        float[][] a = trainStep(fused, x, labels);
        float[][] b = trainStep(plain, x, labels);
        for (int i = 0; i < a.length; i++) {
          assertArrayEquals(b[i], a[i], arch + " output " + i);
        }
      }
    }
  }

  @Test
  void foldedBatchNormEvaluatesLikeSeparateBatchNorm() {
    NetworkSpec spec = Architectures.build("resnet", Map.of("depth", 8), new int[] {1, 12, 12}, 10);
    try (Network fused = Network.build(spec, 9);
        Network plain = Network.build(spec, 9);
        Tensor x = input(spec.inputShape(), 10)) {
      disableFusion(plain);
      assertTrue(fused.choice("conv1").foldBatchNorm(), "evaluation folds batchnorm by default");
      // Give the running statistics non-trivial values: a few training forwards.
      for (int i = 0; i < 3; i++) {
        fused.forward(x, true);
        plain.forward(x, true);
      }
      float[] a = fused.forward(x, false).toFloatArray();
      float[] b = plain.forward(x, false).toFloatArray();
      for (int i = 0; i < a.length; i++) {
        assertEquals(b[i], a[i], FOLD_TOL * (1 + Math.abs(b[i])), "logit " + i);
      }
      assertTrue(fused.fusedNodes().stream().anyMatch(s -> s.endsWith("(evaluation)")));
      try (Tensor grad = Tensor.zeros(BATCH, 10)) {
        assertThrows(IllegalStateException.class, () -> fused.backward(grad),
            "gradients of a folded evaluation forward are refused");
      }
    }
  }

  @Test
  void perNodeChoicesAreCheckedAndKept() {
    NetworkSpec spec = Architectures.build("resnet", Map.of("depth", 8), new int[] {1, 12, 12}, 10);
    try (Network net = Network.build(spec, 1)) {
      net.choose("conv1", Network.NodeChoice.DEFAULT.withAlgorithm(Conv2d.Algorithm.WINOGRAD));
      assertEquals(Conv2d.Algorithm.WINOGRAD, net.choice("conv1").algorithm());
      assertEquals(Conv2d.Algorithm.WINOGRAD, ((Conv2d) net.layers().get(0)).algorithm());
      assertThrows(UserException.class,
          () -> net.choose("bn1", Network.NodeChoice.DEFAULT.withAlgorithm(Conv2d.Algorithm.IM2COL)));
      assertThrows(UserException.class,
          () -> net.choose("nope", Network.NodeChoice.DEFAULT));
    }
  }
}
