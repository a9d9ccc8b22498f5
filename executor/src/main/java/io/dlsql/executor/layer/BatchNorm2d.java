package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.blocked.BlockedBatchNorm;
import io.dlsql.executor.kernel.blocked.ChannelTiling;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;

/**
 * Batch normalisation per channel over (N, C, H, W), or per feature over (N, F). Training uses
 * the batch's mean and biased variance and updates the running statistics with the unbiased
 * variance (PyTorch semantics); evaluation uses the running statistics. Channels are split across
 * threads; each channel's sums run in a fixed order in double precision.
 */
public final class BatchNorm2d extends Layer {
  private static final int MIN_CHANNELS_PER_CHUNK = 1;

  private final int channels;
  private final int pixels;
  private final double eps;
  private final double momentum;
  private final Tensor gamma;
  private final Tensor gammaGrad;
  private final Tensor beta;
  private final Tensor betaGrad;
  private final Tensor runningMean;
  private final Tensor runningVar;
  /** Per channel, from the latest forward: the mean and 1/sqrt(var + eps) it normalised with. */
  private final double[] usedMean;
  private final double[] usedInvStd;
  private boolean lastTraining;
  private FusedActivation activation = FusedActivation.IDENTITY;
  /** dy masked by the fused activation for the blocked-layout kernels (NCHW masks as it reads). */
  private Tensor maskedGrad;
  /** The parameters as the NHWC / NCHWc kernels take them. */
  private final BlockedBatchNorm.State blockedState;

  public BatchNorm2d(String name, int[] shape, double eps, double momentum) {
    super(name, shape);
    this.channels = shape[0];
    this.pixels = shape.length == 3 ? shape[1] * shape[2] : 1;
    this.eps = eps;
    this.momentum = momentum;
    this.gamma = Tensor.zeros(channels);
    this.gammaGrad = Tensor.zeros(channels);
    this.beta = Tensor.zeros(channels);
    this.betaGrad = Tensor.zeros(channels);
    this.runningMean = Tensor.zeros(channels);
    this.runningVar = Tensor.zeros(channels);
    this.usedMean = new double[channels];
    this.usedInvStd = new double[channels];
    this.blockedState = new BlockedBatchNorm.State(gamma, beta, runningMean, runningVar, eps, momentum,
        usedMean, usedInvStd);
    initialize(InitScheme.DEFAULT, null);
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(new Parameter(name + ".weight", gamma, gammaGrad),
        new Parameter(name + ".bias", beta, betaGrad));
  }

  @Override
  public LinkedHashMap<String, Tensor> buffers() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    out.put(name + ".running_mean", runningMean);
    out.put(name + ".running_var", runningVar);
    return out;
  }

  /** Weight 1, bias 0, running mean 0 and variance 1, whatever the scheme. */
  @Override
  public void initialize(InitScheme scheme, Rng rng) {
    gamma.fill(1f);
    beta.fill(0f);
    runningMean.fill(0f);
    runningVar.fill(1f);
  }

  /** The activation applied after the affine step (a fused ReLU), identity by default. */
  public FusedActivation fusedActivation() {
    return activation;
  }

  /** Fuses {@code act} into the output: the layer then computes {@code act(batchnorm(x))}. */
  public void setFusedActivation(FusedActivation act) {
    this.activation = Objects.requireNonNull(act, "activation");
  }

  /** Per channel, the scale {@code gamma / sqrt(var + eps)} evaluation applies (for folding into a convolution). */
  public float[] inferenceScale() {
    float[] out = new float[channels];
    for (int c = 0; c < channels; c++) {
      out[c] = (float) (gamma.getFlat(c) / Math.sqrt(runningVar.getFlat(c) + eps));
    }
    return out;
  }

  /** Per channel, the shift {@code beta - mean * scale} evaluation applies (for folding into a convolution). */
  public float[] inferenceShift() {
    float[] out = new float[channels];
    for (int c = 0; c < channels; c++) {
      double scale = gamma.getFlat(c) / Math.sqrt(runningVar.getFlat(c) + eps);
      out[c] = (float) (beta.getFlat(c) - runningMean.getFlat(c) * scale);
    }
    return out;
  }

  // x: (N, C, H, W) -> y = act(gamma * (x - mean_c) / sqrt(var_c + eps) + beta)
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    MemorySegment x = inputs[0].segment();
    MemorySegment y = output.segment();
    int n = inputs[0].dim(0);
    long count = (long) n * pixels;
    long sampleStride = (long) channels * pixels;
    lastTraining = training;
    if (inputs[0].layout() != Layout.NCHW) {
      BlockedBatchNorm.forward(ChannelTiling.of(inputs[0]), x, y, training, blockedState, activation);
      return;
    }
    Parallel.get().forRange(channels, MIN_CHANNELS_PER_CHUNK, (chunk, from, to) -> {
      double[] sums = new double[2];
      for (int c = from; c < to; c++) {
        double mean;
        double invStd;
        if (training) {
          // One pass for both moments, shifted by the channel's first value (near the mean for
          // any real activation) so the variance does not cancel away.
          float pivot = x.getAtIndex(Tensor.F32, (long) c * pixels);
          sums[0] = 0;
          sums[1] = 0;
          ElementwiseKernels.channelShiftedSums(x, (long) c * pixels, sampleStride, n, pixels, pivot, sums);
          double meanShifted = sums[0] / count;
          mean = pivot + meanShifted;
          double sq = Math.max(0, sums[1] - sums[0] * meanShifted);
          double var = sq / count;
          invStd = 1.0 / Math.sqrt(var + eps);
          double unbiased = count > 1 ? sq / (count - 1) : var;
          runningMean.setFlat(c, (float) ((1 - momentum) * runningMean.getFlat(c) + momentum * mean));
          runningVar.setFlat(c, (float) ((1 - momentum) * runningVar.getFlat(c) + momentum * unbiased));
        } else {
          mean = runningMean.getFlat(c);
          invStd = 1.0 / Math.sqrt(runningVar.getFlat(c) + eps);
        }
        usedMean[c] = mean;
        usedInvStd[c] = invStd;
        float scale = (float) (gamma.getFlat(c) * invStd);
        float shift = (float) (beta.getFlat(c) - mean * gamma.getFlat(c) * invStd);
        for (int s = 0; s < n; s++) {
          long base = s * sampleStride + (long) c * pixels;
          ElementwiseKernels.scaleShift(x, base, y, base, pixels, scale, shift, activation);
        }
      }
    });
  }

  // With xhat = (x - mean) * invStd and M = N*H*W: dbeta = sum dy, dgamma = sum dy * xhat,
  // training: dx = gamma * invStd / M * (M * dy - dbeta - xhat * dgamma); eval: dx = gamma * invStd * dy.
  // A fused activation first turns dy into dy * act'(y).
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    MemorySegment x = inputs[0].segment();
    MemorySegment dx = gradInputs[0] == null ? null : gradInputs[0].segment();
    int n = inputs[0].dim(0);
    long count = (long) n * pixels;
    long sampleStride = (long) channels * pixels;
    MemorySegment dy = gradOutput.segment();
    if (inputs[0].layout() != Layout.NCHW) {
      MemorySegment grad = dy;
      if (activation != FusedActivation.IDENTITY) {
        MemorySegment masked = dx != null ? dx : scratch(gradOutput.numel());
        MemorySegment ys = output.segment();
        MemorySegment g = gradOutput.segment();
        Elementwise.forEach(gradOutput.numel(), (from, to) -> ElementwiseKernels.reluBackward(ys, g, masked, from, to));
        grad = masked;
      }
      BlockedBatchNorm.backward(ChannelTiling.of(inputs[0]), x, grad, dx, lastTraining, blockedState, gammaGrad,
          betaGrad);
      return;
    }
    MemorySegment y = output.segment();
    boolean relu = activation == FusedActivation.RELU;
    // One pass for both sums and one for dx, each applying the fused ReLU's mask as it reads dy.
    Parallel.get().forRange(channels, MIN_CHANNELS_PER_CHUNK, (chunk, from, to) -> {
      double[] sums = new double[2];
      for (int c = from; c < to; c++) {
        float mean = (float) usedMean[c];
        double invStd = usedInvStd[c];
        sums[0] = 0;
        sums[1] = 0;
        ElementwiseKernels.channelGradientSums(y, dy, x, (long) c * pixels, sampleStride, n, pixels, mean, relu, sums);
        double sumDy = sums[0];
        double sumDyXhat = sums[1] * invStd;
        betaGrad.setFlat(c, (float) sumDy);
        gammaGrad.setFlat(c, (float) sumDyXhat);
        if (dx == null) {
          continue;
        }
        double g = gamma.getFlat(c);
        // dx = a * dz + b * (x - mean) + c0
        float a = (float) (g * invStd);
        float b = lastTraining ? (float) (-g * invStd * invStd * sumDyXhat / count) : 0f;
        float c0 = lastTraining ? (float) (-g * invStd * sumDy / count) : 0f;
        for (int s = 0; s < n; s++) {
          long base = s * sampleStride + (long) c * pixels;
          ElementwiseKernels.batchNormInputGradient(y, dy, x, dx, base, pixels, a, b, mean, c0, relu);
        }
      }
    });
  }

  private MemorySegment scratch(long floats) {
    if (maskedGrad == null || maskedGrad.numel() < floats) {
      if (maskedGrad != null) {
        maskedGrad.close();
      }
      maskedGrad = Tensor.zeros(Math.toIntExact(floats));
    }
    return maskedGrad.segment();
  }

  @Override
  public void close() {
    super.close();
    if (maskedGrad != null) {
      maskedGrad.close();
    }
  }
}
