package io.dlsql.planner.kernel;

import io.dlsql.planner.logical.LogicalNode;
import java.util.function.ToLongFunction;

/**
 * What the cost model needs to know about one implementation beyond the operator's own FLOPs and
 * bytes: how close to the machine's GEMM ceiling it computes, how many of the operator's
 * multiplications it performs, whether it runs on several threads, the workspace one thread
 * needs and the extra memory traffic it causes (both in floats per image).
 *
 * @param computeEfficiency fraction of the measured GEMM GFLOP/s this kernel reaches on a
 *     well-shaped problem
 * @param multiplyFactor multiplications performed per multiplication of the direct definition
 *     (below 1 for Winograd)
 * @param threaded whether the kernel splits images across the thread pool
 * @param fusesEpilogue whether elementwise followers (bias, folded batchnorm, activation,
 *     residual add) can run inside the kernel's output loop
 * @param usesGemm whether the compute rate follows the GEMM micro-kernel's tile shape
 * @param workspaceFloats floats of scratch one thread needs per image in flight
 * @param extraTrafficFloats floats moved per image per pass beyond inputs, output and weights
 */
public record CostInputs(
    double computeEfficiency,
    double multiplyFactor,
    boolean threaded,
    boolean fusesEpilogue,
    boolean usesGemm,
    ToLongFunction<LogicalNode> workspaceFloats,
    ToLongFunction<LogicalNode> extraTrafficFloats) {

  /** No workspace and no extra traffic. */
  public static final ToLongFunction<LogicalNode> NONE = n -> 0L;

  public CostInputs {
    if (!(computeEfficiency > 0 && computeEfficiency <= 1) || !(multiplyFactor > 0)) {
      throw new IllegalArgumentException(
          "efficiency must be in (0, 1] and the multiply factor positive: " + computeEfficiency
              + ", " + multiplyFactor);
    }
  }
}
