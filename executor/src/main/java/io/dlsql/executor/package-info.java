/** The math: off-heap tensors, kernels (a plain reference variant and fast variants), layers with forward and backward, network graphs, optimizers and the training loop. */
package io.dlsql.executor;
