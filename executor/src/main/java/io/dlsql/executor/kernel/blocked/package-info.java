/**
 * Kernels for the channel-interleaved layouts NHWC and NCHWc: batchnorm, pooling, global average
 * pooling, channel concatenation, depthwise and im2row convolution, the layout-generic direct
 * convolution, and {@link io.dlsql.executor.kernel.blocked.BlockedConvolution}, the per-layer
 * state that runs every convolution algorithm outside NCHW. Both layouts keep the channels of a
 * pixel in runs of up to 16 adjacent floats (one 512-bit vector), so one set of kernels over
 * {@link io.dlsql.executor.kernel.blocked.ChannelTiling} channel groups serves both; each kernel
 * has a Vector API path and a scalar twin behind {@code KernelSwitch}.
 */
package io.dlsql.executor.kernel.blocked;
