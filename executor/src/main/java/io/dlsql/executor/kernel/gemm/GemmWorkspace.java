package io.dlsql.executor.kernel.gemm;

/**
 * One thread's packing buffers, kept for the life of the thread so that steady-state GEMM calls
 * allocate nothing. Buffers only grow, to the largest block this thread has packed.
 */
final class GemmWorkspace {
  private static final ThreadLocal<GemmWorkspace> PER_THREAD =
      ThreadLocal.withInitial(GemmWorkspace::new);

  private float[] packedA = new float[0];
  private float[] packedB = new float[0];

  private final float[] tile = new float[MicroKernel.MR * MicroKernel.NR];

  private GemmWorkspace() {}

  static GemmWorkspace current() {
    return PER_THREAD.get();
  }

  /** A buffer for a packed block of A of at least {@code floats} floats. */
  float[] packedA(int floats) {
    if (packedA.length < floats) {
      packedA = new float[floats];
    }
    return packedA;
  }

  /** Where a tile's accumulators wait to be merged into C. */
  float[] tile() {
    return tile;
  }

  /** A buffer for a packed panel of B of at least {@code floats} floats. */
  float[] packedB(int floats) {
    if (packedB.length < floats) {
      packedB = new float[floats];
    }
    return packedB;
  }
}
