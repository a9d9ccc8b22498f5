/**
 * Model compression, the executor side of {@code COMPRESS MODEL}: int8 post-training static
 * quantization ({@link io.dlsql.executor.compress.QuantizedNetwork} over {@link
 * io.dlsql.executor.compress.Int8Gemm}), fp16/bf16 weight storage, k-means codebooks, magnitude
 * pruning (unstructured with CSR kernels, structured with physically smaller specs) with masked
 * fine-tuning, knowledge distillation, and size accounting ({@link
 * io.dlsql.executor.compress.ModelSize}). Compressed models run through {@link
 * io.dlsql.executor.compress.InferenceModel}, so every variant is evaluated and timed by the same
 * code ({@link io.dlsql.executor.compress.Inference}).
 */
package io.dlsql.executor.compress;
