package io.dlsql.executor.tensor;

/**
 * How a tensor's elements are ordered in memory. {@link #NCHW} is plain row-major order over the
 * shape as given (batch, channels, height, width for images; any rank otherwise); blocked and
 * channels-last layouts join this enum when kernels that use them exist.
 */
public enum Layout {
  /** Row-major over the shape in the order given: the last dimension varies fastest. */
  NCHW
}
