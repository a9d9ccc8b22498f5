package io.dlsql.executor.compress;

import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.tensor.Tensor;

/**
 * Anything that turns a batch of images into logits in evaluation mode: an fp32 {@link Network},
 * a {@link QuantizedNetwork}, a sparse network. {@link Inference} evaluates and times any of
 * them the same way.
 */
public interface InferenceModel extends AutoCloseable {
  /** The spec whose input shape and class count this model has. */
  NetworkSpec spec();

  /** Logits (N, classes) for x (N, C, H, W): a view owned by the model, valid until the next call. */
  Tensor forward(Tensor x);

  @Override
  void close();

  /** An fp32 network in evaluation mode; closing the view closes the network. */
  static InferenceModel of(Network net) {
    return new InferenceModel() {
      @Override
      public NetworkSpec spec() {
        return net.spec();
      }

      @Override
      public Tensor forward(Tensor x) {
        return net.forward(x, false);
      }

      @Override
      public void close() {
        net.close();
      }
    };
  }
}
