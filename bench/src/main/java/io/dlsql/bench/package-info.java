/** JMH kernel benchmarks and end-to-end comparisons against the PyTorch baseline. */
package io.dlsql.bench;
