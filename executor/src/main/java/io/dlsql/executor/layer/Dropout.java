package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.blocked.BlockedDropout;
import io.dlsql.executor.kernel.blocked.ChannelTiling;
import io.dlsql.executor.kernel.elementwise.DropoutKernel;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Inverted dropout: in training each element is zeroed with probability p and the rest scaled by
 * 1/(1-p); in evaluation it is the identity. The mask of sample {@code i} comes from {@code
 * Rng.derive(seed, i)} with the seed the network sets per batch, so it does not depend on threads.
 */
public final class Dropout extends Layer {
  private final float p;
  private long seed;
  /** The mask of the latest training forward: 0 or 1/(1-p) per element. */
  private Tensor mask;
  private boolean maskActive;

  public Dropout(String name, int[] shape, double p) {
    super(name, shape);
    this.p = (float) p;
  }

  public float p() {
    return p;
  }

  /** Seeds the masks of the next forward. */
  public void setSeed(long seed) {
    this.seed = seed;
  }

  // x: (N, ...) -> y = x * mask
  @Override
  public void forward(Tensor[] inputs, Tensor output, boolean training) {
    maskActive = training && p > 0f;
    if (!maskActive) {
      output.copyFrom(inputs[0]);
      return;
    }
    if (mask == null || mask.numel() < output.numel()) {
      if (mask != null) {
        mask.close();
      }
      mask = Tensor.zeros(Math.toIntExact(output.numel()));
    }
    MemorySegment x = inputs[0].segment();
    MemorySegment y = output.segment();
    MemorySegment m = mask.segment();
    if (output.layout() != Layout.NCHW) {
      BlockedDropout.forward(ChannelTiling.of(output), x, y, m, p, seed);
      return;
    }
    int per = perSample(output);
    float keep = 1f / (1f - p);
    long batchSeed = seed;
    Parallel.get().forRange(output.dim(0), 1, (chunk, from, to) -> {
      for (int s = from; s < to; s++) {
        // The stream of Rng.derive(batchSeed, s).
        DropoutKernel.forward(Rng.mix(batchSeed, s), p, keep, x, y, m, (long) s * per, per);
      }
    });
  }

  // dx = dy * mask
  @Override
  public void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs) {
    if (gradInputs[0] == null) {
      return;
    }
    if (!maskActive) {
      gradInputs[0].copyFrom(gradOutput);
      return;
    }
    MemorySegment dy = gradOutput.segment();
    MemorySegment dx = gradInputs[0].segment();
    MemorySegment m = mask.segment();
    Elementwise.forEach(gradOutput.numel(), (from, to) -> ElementwiseKernels.multiply(dy, m, dx, from, to));
  }

  @Override
  public void close() {
    super.close();
    if (mask != null) {
      mask.close();
    }
  }
}
