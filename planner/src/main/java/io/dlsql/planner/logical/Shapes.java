package io.dlsql.planner.logical;

/** Small helpers over per-sample shapes. */
public final class Shapes {
  private Shapes() {}

  /** Elements of a shape. */
  public static long numel(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** A shape as EXPLAIN shows it: {@code 16x28x28}. */
  public static String format(int[] shape) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < shape.length; i++) {
      b.append(i == 0 ? "" : "x").append(shape[i]);
    }
    return b.toString();
  }
}
