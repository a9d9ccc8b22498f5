package io.dlsql.planner.cost;

import io.dlsql.executor.graph.Op;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.logical.LogicalNode;

/**
 * Scratch memory a node's kernel holds while it runs: the implementation's per-image workspace
 * once per chunk of images in flight (one chunk per thread, at most one per image), and in a
 * convolution's backward one partial weight gradient per chunk after the first, which the
 * executor sums in chunk order for deterministic results.
 */
public final class WorkspaceProvider {
  /** Bytes of workspace for {@code batch} samples on {@code threads} threads. */
  public long bytes(LogicalNode node, Implementation impl, int batch, int threads, Direction direction) {
    int chunks = impl.cost().threaded() ? Math.max(1, Math.min(threads, batch)) : 1;
    long floats = impl.cost().workspaceFloats().applyAsLong(node) * chunks;
    if (direction == Direction.BACKWARD && node.op() == Op.CONV2D) {
      floats += (chunks - 1) * BytesMovedProvider.weightCount(node);
    }
    return floats * BytesMovedProvider.ELEMENT_BYTES;
  }
}
