package io.dlsql.executor.kernel.elementwise;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each elementwise kernel, on its Vector API path and its scalar path, against a double-precision
 * loop, over ranges whose starts and lengths are not multiples of the vector width.
 */
class ElementwiseKernelsTest {
  private static final int SIZE = 157;
  private static final int FROM = 3;
  private static final int TO = 150;
  private static final double SUM_TOL = 1e-5;
  private final Gemm.Variant before = Gemm.variant();

  @AfterEach
  void restore() {
    Gemm.setVariant(before);
  }

  private static Tensor random(Rng rng) {
    Tensor t = Tensor.zeros(SIZE);
    for (int i = 0; i < SIZE; i++) {
      t.setFlat(i, (float) rng.uniform(-2, 2));
    }
    return t;
  }

  @ParameterizedTest
  @EnumSource(Gemm.Variant.class)
  void everyKernelMatchesItsDefinition(Gemm.Variant variant) {
    Gemm.setVariant(variant);
    Rng rng = new Rng(variant.ordinal() + 5);
    try (Tensor a = random(rng); Tensor b = random(rng); Tensor c = random(rng); Tensor y = Tensor.zeros(SIZE)) {
      MemorySegment as = a.segment();
      MemorySegment bs = b.segment();
      MemorySegment ys = y.segment();
      y.fill(7f);
      ElementwiseKernels.relu(as, ys, FROM, TO);
      for (int i = 0; i < SIZE; i++) {
        float expect = i < FROM || i >= TO ? 7f : Math.max(a.getFlat(i), 0f);
        assertEquals(expect, y.getFlat(i), "relu " + i);
      }
      ElementwiseKernels.reluBackward(as, bs, ys, FROM, TO);
      for (int i = FROM; i < TO; i++) {
        assertEquals(a.getFlat(i) > 0 ? b.getFlat(i) : 0f, y.getFlat(i), "relu backward " + i);
      }
      ElementwiseKernels.leakyRelu(as, ys, 0.1f, FROM, TO);
      for (int i = FROM; i < TO; i++) {
        assertEquals(a.getFlat(i) > 0 ? a.getFlat(i) : 0.1f * a.getFlat(i), y.getFlat(i), "leaky " + i);
      }
      ElementwiseKernels.leakyReluBackward(as, bs, ys, 0.1f, FROM, TO);
      for (int i = FROM; i < TO; i++) {
        assertEquals(a.getFlat(i) > 0 ? b.getFlat(i) : 0.1f * b.getFlat(i), y.getFlat(i), "leaky backward " + i);
      }
      ElementwiseKernels.add(as, bs, ys, FusedActivation.RELU, FROM, TO);
      for (int i = FROM; i < TO; i++) {
        assertEquals(Math.max(a.getFlat(i) + b.getFlat(i), 0f), y.getFlat(i), "add relu " + i);
      }
      ElementwiseKernels.multiply(as, bs, ys, FROM, TO);
      for (int i = FROM; i < TO; i++) {
        assertEquals(a.getFlat(i) * b.getFlat(i), y.getFlat(i), "multiply " + i);
      }
      int len = TO - FROM;
      ElementwiseKernels.scaleShift(as, FROM, ys, 1, len, 1.5f, -0.25f, FusedActivation.IDENTITY);
      for (int i = 0; i < len; i++) {
        assertEquals(a.getFlat(FROM + i) * 1.5 - 0.25, y.getFlat(1 + i), 1e-6, "scale shift " + i);
      }
      ElementwiseKernels.activationBackward(FusedActivation.RELU, as, FROM, bs, FROM, ys, 0, len);
      for (int i = 0; i < len; i++) {
        assertEquals(a.getFlat(FROM + i) > 0 ? b.getFlat(FROM + i) : 0f, y.getFlat(i), "activation backward " + i);
      }
      y.copyFrom(c);
      ElementwiseKernels.addInto(ys, 2, as, FROM, len);
      for (int i = 0; i < len; i++) {
        assertEquals(c.getFlat(2 + i) + a.getFlat(FROM + i), y.getFlat(2 + i), "add into " + i);
      }
      double sum = 0;
      double sq = 0;
      double dot = 0;
      float mean = 0.3f;
      for (int i = FROM; i < TO; i++) {
        sum += a.getFlat(i);
        sq += (a.getFlat(i) - (double) mean) * (a.getFlat(i) - mean);
        dot += b.getFlat(i) * (a.getFlat(i) - (double) mean);
      }
      assertEquals(sum, ElementwiseKernels.sum(as, FROM, len), SUM_TOL);
      assertEquals(sq, ElementwiseKernels.sumSquaredDeviation(as, FROM, len, mean), SUM_TOL);
      assertEquals(dot, ElementwiseKernels.dotDeviation(bs, as, FROM, len, mean), SUM_TOL);
      ElementwiseKernels.affineOfTwo(bs, as, ys, FROM, len, 0.5f, -0.75f, mean, 0.125f);
      for (int i = FROM; i < TO; i++) {
        double expect = 0.5 * b.getFlat(i) - 0.75 * (a.getFlat(i) - mean) + 0.125;
        assertEquals(expect, y.getFlat(i), 1e-5, "affine of two " + i);
      }
    }
  }

  /**
   * The per-channel sums batchnorm takes over the runs of one channel (n runs of len floats,
   * stride apart; len not a multiple of the vector width, and shorter than one) against double
   * loops, and against the per-run kernels they replace.
   */
  @ParameterizedTest
  @EnumSource(Gemm.Variant.class)
  void channelSumsMatchDoubleLoops(Gemm.Variant variant) {
    Gemm.setVariant(variant);
    Rng rng = new Rng(variant.ordinal() + 9);
    int n = 5;
    for (int len : new int[] {49, 196, 7, 64}) {
      long stride = 3L * len + 2;
      long base = len + 1;
      int total = (int) (base + n * stride);
      try (Tensor x = Tensor.zeros(total); Tensor y = Tensor.zeros(total); Tensor dy = Tensor.zeros(total)) {
        for (int i = 0; i < total; i++) {
          x.setFlat(i, (float) rng.uniform(0.5, 2.5));
          y.setFlat(i, (float) rng.uniform(-1, 1));
          dy.setFlat(i, (float) rng.uniform(-1, 1));
        }
        float shift = x.getFlat(base);
        float mean = 1.4f;
        double[] expect = new double[4];
        double[] perRun = new double[2];
        double[] perRunGrad = new double[2];
        for (int s = 0; s < n; s++) {
          long off = base + s * stride;
          for (int i = 0; i < len; i++) {
            double d = x.getFlat(off + i) - (double) shift;
            expect[0] += d;
            expect[1] += d * d;
            double dz = y.getFlat(off + i) > 0 ? dy.getFlat(off + i) : 0;
            expect[2] += dz;
            expect[3] += dz * (x.getFlat(off + i) - (double) mean);
          }
          ElementwiseKernels.shiftedSums(x.segment(), off, len, shift, perRun);
          ElementwiseKernels.batchNormGradientSums(y.segment(), dy.segment(), x.segment(), off, len, mean, true,
              perRunGrad);
        }
        double[] sums = {0.5, -0.25}; // the kernels add to what is there
        ElementwiseKernels.channelShiftedSums(x.segment(), base, stride, n, len, shift, sums);
        double[] grads = {0.5, -0.25};
        ElementwiseKernels.channelGradientSums(y.segment(), dy.segment(), x.segment(), base, stride, n, len, mean,
            true, grads);
        String what = variant + " len " + len;
        // Relative: the scalar paths subtract the shift in float, as the layers always have.
        assertEquals(expect[0] + 0.5, sums[0], SUM_TOL * (1 + Math.abs(sums[0])), what + " sum");
        assertEquals(expect[1] - 0.25, sums[1], SUM_TOL * (1 + Math.abs(sums[1])), what + " sum of squares");
        assertEquals(expect[2] + 0.5, grads[0], SUM_TOL * (1 + Math.abs(grads[0])), what + " sum dz");
        assertEquals(expect[3] - 0.25, grads[1], SUM_TOL * (1 + Math.abs(grads[1])), what + " sum dz (x - mean)");
        assertEquals(perRun[0] + 0.5, sums[0], SUM_TOL * (1 + Math.abs(sums[0])), what + " against the per-run kernel");
        assertEquals(perRunGrad[1] - 0.25, grads[1], SUM_TOL * (1 + Math.abs(grads[1])), what + " against the per-run kernel");
      }
    }
  }
}
