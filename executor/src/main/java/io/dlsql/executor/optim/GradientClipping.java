package io.dlsql.executor.optim;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.layer.Parameter;
import java.lang.foreign.MemorySegment;
import java.util.List;

/** Gradient clipping by global norm, as PyTorch's {@code clip_grad_norm_}. */
public final class GradientClipping {
  /** Added to the norm before dividing, as PyTorch does, so a zero norm cannot divide by zero. */
  private static final double NORM_EPS = 1e-6;

  private GradientClipping() {}

  /** The L2 norm of all gradients together, summed in parameter order in double precision. */
  public static double globalNorm(List<Parameter> parameters) {
    double sq = 0;
    for (Parameter p : parameters) {
      MemorySegment g = p.grad().segment();
      for (long i = 0; i < p.grad().numel(); i++) {
        double v = g.getAtIndex(F32, i);
        sq += v * v;
      }
    }
    return Math.sqrt(sq);
  }

  /** Scales all gradients by {@code maxNorm / (norm + 1e-6)} when that is below 1; returns the norm before clipping. */
  public static double clipByGlobalNorm(List<Parameter> parameters, double maxNorm) {
    double norm = globalNorm(parameters);
    double coef = maxNorm / (norm + NORM_EPS);
    if (coef < 1) {
      float c = (float) coef;
      for (Parameter p : parameters) {
        MemorySegment g = p.grad().segment();
        for (long i = 0; i < p.grad().numel(); i++) {
          g.setAtIndex(F32, i, g.getAtIndex(F32, i) * c);
        }
      }
    }
    return norm;
  }
}
