package io.dlsql.executor.layer;

import io.dlsql.executor.kernel.Parallel;

/** Runs elementwise loops over all cores in fixed chunks. */
final class Elementwise {
  /** Elements per chunk at least: below this a thread hand-off costs more than the loop. */
  static final int GRAIN = 1 << 14;

  private Elementwise() {}

  /** A body over the flat index range {@code [from, to)}. */
  @FunctionalInterface
  interface Body {
    void run(long from, long to);
  }

  static void forEach(long n, Body body) {
    if (n > Integer.MAX_VALUE) {
      throw new IllegalStateException("tensor of " + n + " elements is too large");
    }
    Parallel.get().forRange((int) n, GRAIN, (chunk, from, to) -> body.run(from, to));
  }
}
