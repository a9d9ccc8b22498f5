package io.dlsql.executor.layer;

import static io.dlsql.executor.layer.Checks.randomFloats;
import static io.dlsql.executor.layer.Checks.set;
import static io.dlsql.executor.layer.Checks.tensor;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.kernel.winograd.WinogradConv2d;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Measures how far Winograd F(4x4, 3x3) strays from the float64 convolution compared with
 * im2col and direct summation, on ResNet-20's middle shape (32 channels, 14x14), forward and both
 * gradients. The measured errors are printed; the test pins the ratio to im2col's error below
 * {@link WinogradConv2d#ACCURACY_FACTOR}.
 */
class WinogradAccuracyTest {
  /** Worst error relative to the result's largest magnitude. */
  private static double error(double[] expected, float[] actual) {
    double scale = 0;
    double worst = 0;
    for (double e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    for (int i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    }
    return worst / scale;
  }

  @Test
  void winogradErrorStaysWithinItsFactorOfIm2col() {
    Reference64.Conv p = new Reference64.Conv(2, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    Rng rng = new Rng(2024);
    double[] x = randomFloats(rng, p.n() * p.c() * p.h() * p.w());
    double[] w = randomFloats(rng, p.oc() * p.cg() * 9);
    double[] b = randomFloats(rng, p.oc());
    double[] dy = randomFloats(rng, p.n() * p.oc() * p.oh() * p.ow());
    double[] y = Reference64.conv(p, x, w, b);
    double[][] grads = Reference64.convBackward(p, x, w, dy);
    double[][] errors = new double[Conv2d.Algorithm.values().length][];
    for (Conv2d.Algorithm algorithm : new Conv2d.Algorithm[] {
        Conv2d.Algorithm.DIRECT, Conv2d.Algorithm.IM2COL, Conv2d.Algorithm.WINOGRAD}) {
      try (Conv2d layer = new Conv2d("conv", ConvAlgorithmTest.geometry(p), true);
          Tensor xt = tensor(x, p.n(), p.c(), p.h(), p.w());
          Tensor yt = Tensor.zeros(p.n(), p.oc(), p.oh(), p.ow());
          Tensor dyt = tensor(dy, p.n(), p.oc(), p.oh(), p.ow());
          Tensor dxt = Tensor.zeros(p.n(), p.c(), p.h(), p.w())) {
        layer.setAlgorithm(algorithm);
        set(layer.weight(), w);
        set(layer.bias(), b);
        layer.forward(new Tensor[] {xt}, yt, true);
        layer.backward(new Tensor[] {xt}, yt, dyt, new Tensor[] {dxt});
        errors[algorithm.ordinal()] = new double[] {error(y, yt.toFloatArray()),
            error(grads[0], dxt.toFloatArray()), error(grads[1], layer.parameters().get(0).grad().toFloatArray())};
        System.out.printf("%-9s max error / scale: y %.2e  dx %.2e  dw %.2e%n", algorithm,
            errors[algorithm.ordinal()][0], errors[algorithm.ordinal()][1], errors[algorithm.ordinal()][2]);
      }
    }
    // The planner's cost inputs: Winograd does about a quarter of the GEMM work plus transforms.
    var direct0 = Conv2d.cost(Conv2d.Algorithm.DIRECT, ConvAlgorithmTest.geometry(p), p.n());
    var winograd0 = Conv2d.cost(Conv2d.Algorithm.WINOGRAD, ConvAlgorithmTest.geometry(p), p.n());
    var im2col0 = Conv2d.cost(Conv2d.Algorithm.IM2COL, ConvAlgorithmTest.geometry(p), p.n());
    assertTrue(winograd0.forwardFlops() < 0.6 * direct0.forwardFlops(), "winograd flops " + winograd0);
    assertTrue(im2col0.forwardBytes() > direct0.forwardBytes() && im2col0.workspaceBytesPerThread() > 0);
    assertTrue(winograd0.layerWorkspaceBytes() == 36L * 32 * 32 * Float.BYTES);
    double[] im2col = errors[Conv2d.Algorithm.IM2COL.ordinal()];
    double[] direct = errors[Conv2d.Algorithm.DIRECT.ordinal()];
    double[] winograd = errors[Conv2d.Algorithm.WINOGRAD.ordinal()];
    for (int k = 0; k < 3; k++) {
      double baseline = Math.max(Math.max(im2col[k], direct[k]), 1e-7);
      assertTrue(winograd[k] <= WinogradConv2d.ACCURACY_FACTOR * baseline,
          "winograd error " + winograd[k] + " vs " + baseline + " in output " + k);
    }
  }
}
