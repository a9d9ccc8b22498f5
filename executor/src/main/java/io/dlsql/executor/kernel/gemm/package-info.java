/**
 * The fast single-precision GEMM behind {@link io.dlsql.executor.kernel.Gemm}: packing of A and B
 * into contiguous slivers ({@code Packing}), cache blocking ({@code BlockedGemm}), a
 * register-blocked Vector API micro-kernel ({@code MicroKernel}), the merge into C ({@code
 * TileStore}), an unpacked path for tiny problems ({@code SmallGemm}) and the thread split ({@link
 * io.dlsql.executor.kernel.gemm.VectorGemm}). Validated against {@link
 * io.dlsql.executor.kernel.ReferenceGemm} and a float64 oracle.
 */
package io.dlsql.executor.kernel.gemm;
