package io.dlsql.executor.layer;

import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * One node of a network with its parameters and the workspaces its kernels reuse from batch to
 * batch. Forward and backward take batched tensors whose first dimension is the batch; the other
 * dimensions are the per-sample shapes fixed at construction. A layer is not thread-safe: one
 * batch at a time, and its kernels parallelise inside.
 */
public abstract sealed class Layer implements AutoCloseable
    permits Conv2d, BatchNorm2d, Activation, Pool2d, GlobalAvgPool, Dense, Dropout, Flatten, Add, Concat {
  protected final String name;
  protected final int[] outputShape;

  protected Layer(String name, int[] outputShape) {
    this.name = name;
    this.outputShape = outputShape.clone();
  }

  public String name() {
    return name;
  }

  /** Per-sample output shape. */
  public int[] outputShape() {
    return outputShape.clone();
  }

  /** Writes {@code output} from {@code inputs}; saves in the layer what backward needs. */
  public abstract void forward(Tensor[] inputs, Tensor output, boolean training);

  /**
   * Given the gradient of the loss by this layer's output, overwrites the parameter gradients and
   * each non-null {@code gradInputs[i]} (null: that input needs no gradient). {@code inputs} and
   * {@code output} are those of the latest forward.
   */
  public abstract void backward(Tensor[] inputs, Tensor output, Tensor gradOutput, Tensor[] gradInputs);

  /** Trainable parameters, in state-dict order. */
  public List<Parameter> parameters() {
    return List.of();
  }

  /** Non-trainable state saved with the weights (batchnorm running statistics), by full name. */
  public LinkedHashMap<String, Tensor> buffers() {
    return new LinkedHashMap<>();
  }

  /** Sets parameters to their initial values; {@code rng} is this layer's own stream. */
  public void initialize(InitScheme scheme, Rng rng) {}

  /** Frees parameters and workspaces. */
  @Override
  public void close() {
    for (Parameter p : parameters()) {
      p.value().close();
      p.grad().close();
    }
    for (Tensor t : buffers().values()) {
      t.close();
    }
  }

  /** Elements per sample of a batched tensor. */
  protected static int perSample(Tensor t) {
    return (int) t.sampleSize();
  }

  /** Fills {@code t} from {@code U(-bound, bound)}. */
  protected static void uniform(Tensor t, double bound, Rng rng) {
    for (long i = 0; i < t.numel(); i++) {
      t.setFlat(i, (float) rng.uniform(-bound, bound));
    }
  }

  /** Fills {@code t} from {@code N(0, std^2)}. */
  protected static void normal(Tensor t, double std, Rng rng) {
    for (long i = 0; i < t.numel(); i++) {
      t.setFlat(i, (float) (std * rng.nextGaussian()));
    }
  }

  /** The initialisation shared by convolution and dense weights, given their fans. */
  protected static void initWeights(
      Tensor weight, Tensor bias, int fanIn, int fanOut, InitScheme scheme, Rng rng) {
    double bound = 1.0 / Math.sqrt(fanIn);
    switch (scheme) {
      case DEFAULT -> uniform(weight, bound, rng);
      case HE -> normal(weight, Math.sqrt(2.0 / fanIn), rng);
      case XAVIER -> uniform(weight, Math.sqrt(6.0 / (fanIn + fanOut)), rng);
    }
    if (bias != null) {
      if (scheme == InitScheme.DEFAULT) {
        uniform(bias, bound, rng);
      } else {
        bias.fill(0f);
      }
    }
  }
}
