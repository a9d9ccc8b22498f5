package io.dlsql.executor.kernel.gemm;

import static io.dlsql.executor.kernel.gemm.MicroKernel.NR;
import static io.dlsql.executor.kernel.gemm.MicroKernel.SPECIES;
import static io.dlsql.executor.kernel.gemm.MicroKernel.V;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Merges accumulators into C: {@code C = alpha * acc + beta * C}, where beta 0 never reads C (it
 * may hold garbage, NaN included). The vector, masked and scalar forms round identically (one
 * multiply, or one fused multiply-add of {@code acc * alpha} onto {@code beta * C}), so an element
 * gets the same bits whether it sits in a full or an edge tile, and so whatever the thread split.
 */
final class TileStore {
  private TileStore() {}

  static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** Stores all lanes of {@code acc} at float index {@code index} of {@code c}. */
  static void full(FloatVector acc, MemorySegment c, long index, float alpha, float beta) {
    long offset = index * Float.BYTES;
    FloatVector alphaV = FloatVector.broadcast(SPECIES, alpha);
    if (beta == 0f) {
      acc.mul(alphaV).intoMemorySegment(c, offset, ORDER);
      return;
    }
    FloatVector old = FloatVector.fromMemorySegment(SPECIES, c, offset, ORDER);
    acc.fma(alphaV, scaled(old, beta)).intoMemorySegment(c, offset, ORDER);
  }

  /**
   * Merges the top-left {@code rows x cols} of an accumulator tile in {@code acc} (rows at stride
   * {@code NR}) into C at {@code cIndex}.
   */
  static void merge(
      float[] acc, MemorySegment c, long cIndex, int ldc, int rows, int cols, float alpha, float beta) {
    for (int r = 0; r < rows; r++) {
      long row = cIndex + (long) r * ldc;
      int t = r * NR;
      int j = 0;
      for (; j + V <= cols; j += V) {
        full(FloatVector.fromArray(SPECIES, acc, t + j), c, row + j, alpha, beta);
      }
      if (j == cols) {
        continue;
      }
      // A masked access is only fast while the whole vector lies inside the segment; past its
      // end the Vector API falls back to per-lane code and C2 deoptimizes over and over.
      if ((row + j + V) * Float.BYTES <= c.byteSize()) {
        masked(
            FloatVector.fromArray(SPECIES, acc, t + j),
            SPECIES.indexInRange(j, cols),
            c,
            row + j,
            alpha,
            beta);
      } else {
        for (; j < cols; j++) {
          scalar(acc[t + j], c, row + j, alpha, beta);
        }
      }
    }
  }

  private static void masked(
      FloatVector acc, VectorMask<Float> mask, MemorySegment c, long index, float alpha, float beta) {
    long offset = index * Float.BYTES;
    FloatVector alphaV = FloatVector.broadcast(SPECIES, alpha);
    if (beta == 0f) {
      acc.mul(alphaV).intoMemorySegment(c, offset, ORDER, mask);
      return;
    }
    FloatVector old = FloatVector.fromMemorySegment(SPECIES, c, offset, ORDER, mask);
    acc.fma(alphaV, scaled(old, beta)).intoMemorySegment(c, offset, ORDER, mask);
  }

  /** The one-element form of {@link #full}, with the same rounding. */
  static void scalar(float acc, MemorySegment c, long index, float alpha, float beta) {
    if (beta == 0f) {
      c.setAtIndex(Packing.F32, index, acc * alpha);
      return;
    }
    float old = c.getAtIndex(Packing.F32, index);
    c.setAtIndex(Packing.F32, index, Math.fma(acc, alpha, beta == 1f ? old : old * beta));
  }

  /**
   * The {@code V} lanes parked at the start of {@code parked} added in lane order. {@code
   * reduceLanes(ADD)} may add in any order, and C2's order differs from the interpreter's, so a
   * result would depend on whether the code had been compiled yet. Callers park the vector
   * themselves ({@code intoArray}): a vector passed to a method C2 does not inline is boxed, and a
   * boxed loop accumulator is boxed at every step of its loop.
   */
  static float sumLanes(float[] parked) {
    float sum = 0f;
    for (int i = 0; i < V; i++) {
      sum += parked[i];
    }
    return sum;
  }

  /** {@code beta * old}, skipping the multiply for the common beta 1 of later k blocks. */
  private static FloatVector scaled(FloatVector old, float beta) {
    return beta == 1f ? old : old.mul(beta);
  }
}
