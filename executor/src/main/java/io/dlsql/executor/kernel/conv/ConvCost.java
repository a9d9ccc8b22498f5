package io.dlsql.executor.kernel.conv;

/**
 * What one convolution algorithm costs on one batch, the inputs the planner's cost model turns
 * into time: floating-point operations of the forward pass and of both backward passes together
 * (input and weight gradients), floats moved to and from memory by each, and the workspace every
 * kernel thread holds (plus what the layer keeps once, such as transformed weights).
 *
 * @param forwardFlops multiply-adds counted as two operations, transforms included
 * @param backwardFlops both gradients
 * @param forwardBytes input, output, weights and the algorithm's own intermediates, read and written
 * @param backwardBytes likewise for the backward passes
 * @param workspaceBytesPerThread scratch each kernel thread keeps between calls
 * @param layerWorkspaceBytes scratch the layer keeps once (transformed weights)
 */
public record ConvCost(
    long forwardFlops,
    long backwardFlops,
    long forwardBytes,
    long backwardBytes,
    long workspaceBytesPerThread,
    long layerWorkspaceBytes) {}
