package io.dlsql.executor.layer;

import io.dlsql.executor.tensor.Tensor;

/**
 * A trainable tensor and its gradient, named as in a PyTorch state dict ({@code conv1.weight}).
 * Backward overwrites {@code grad} with the gradient of the current batch.
 */
public record Parameter(String name, Tensor value, Tensor grad) {}
