package io.dlsql.executor.compress;

import io.dlsql.executor.graph.Op;

/**
 * Forward time of one node of a compressed model's inference, accumulated over the runs since the
 * profile was reset: what a per-layer comparison with the fp32 {@link
 * io.dlsql.executor.graph.Network#layerTimes()} reads.
 *
 * @param node the node's name in the (folded) spec
 * @param op its operator
 * @param nanos nanoseconds on the model's profiling clock (wall, or thread CPU time)
 */
public record NodeTime(String node, Op op, long nanos) {}
