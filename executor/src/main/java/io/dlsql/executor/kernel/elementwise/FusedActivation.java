package io.dlsql.executor.kernel.elementwise;

/**
 * The activation a producing kernel (convolution, batchnorm, add) applies in its own output loop,
 * so the activation costs no extra pass over memory. Backward masks the incoming gradient with
 * the saved output: for ReLU {@code y > 0} exactly when the pre-activation was positive.
 */
public enum FusedActivation {
  /** No activation: the kernel's plain output. */
  IDENTITY,
  /** {@code max(v, 0)}. */
  RELU;

  /** The activation applied to one value. */
  public float apply(float v) {
    return this == RELU ? (v > 0f ? v : 0f) : v;
  }

  /** The gradient through the activation given the activation's output {@code y}. */
  public float backward(float dy, float y) {
    return this == RELU ? (y > 0f ? dy : 0f) : dy;
  }
}
