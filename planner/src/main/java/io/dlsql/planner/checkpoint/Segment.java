package io.dlsql.planner.checkpoint;

/**
 * A run of consecutive stages {@code [first, last]} of a {@link StageModel}: stored (its
 * activations stay from forward to backward; always a single stage) or recomputed (only the
 * input boundary of {@code first} is kept, as a checkpoint; backward runs the segment's forward
 * again from it).
 */
public record Segment(int first, int last, boolean recomputed) {
  public Segment {
    if (first > last || (!recomputed && first != last)) {
      throw new IllegalArgumentException("bad segment " + first + ".." + last + " " + recomputed);
    }
  }
}
