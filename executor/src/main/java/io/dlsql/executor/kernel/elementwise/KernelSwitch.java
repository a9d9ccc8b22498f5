package io.dlsql.executor.kernel.elementwise;

import io.dlsql.executor.kernel.Gemm;

/**
 * The one switch between the Vector API kernels and their plain scalar twins for every kernel
 * outside GEMM (convolution lowering, layouts, elementwise, pooling, normalisation). It follows
 * {@link Gemm#variant()}, so the system property {@code dlsql.kernels=reference} (or {@link
 * Gemm#setVariant}) turns the Vector API off everywhere at once.
 */
public final class KernelSwitch {
  private KernelSwitch() {}

  /** Whether kernels should take their Vector API paths now. */
  public static boolean vector() {
    return Gemm.variant() == Gemm.Variant.VECTOR;
  }
}
