package io.dlsql.executor.graph;

import java.util.ArrayList;
import java.util.List;

/**
 * Which nodes a training step recomputes instead of keeping: runs of consecutive nodes (in node
 * order), each forgotten after the forward pass as soon as its readers have run and computed again
 * from the tensors it reads, just before backward reaches it. Any runs are sound: a tensor a run
 * reads from outside it, or that a later node needs for its backward, is kept (a checkpoint);
 * cheap schedules choose runs whose only input from outside is one tensor. The empty schedule
 * keeps every activation backward needs.
 */
public record RecomputeSchedule(List<Segment> segments) {
  /** Nodes {@code first..last} (inclusive, node indices) recomputed together. */
  public record Segment(int first, int last) {
    public Segment {
      if (first < 0 || last < first) {
        throw new IllegalArgumentException("bad recompute segment " + first + ".." + last);
      }
    }
  }

  /** Keep everything: no recomputation. */
  public static final RecomputeSchedule NONE = new RecomputeSchedule(List.of());

  public RecomputeSchedule {
    segments = List.copyOf(segments);
    for (int i = 1; i < segments.size(); i++) {
      if (segments.get(i).first() <= segments.get(i - 1).last()) {
        throw new IllegalArgumentException("recompute segments overlap or are out of order: " + segments);
      }
    }
  }

  /** Consecutive segments of {@code length} nodes covering nodes {@code 0..nodes-1}. */
  public static RecomputeSchedule everyNodes(int nodes, int length) {
    if (length < 1) {
      throw new IllegalArgumentException("segment length " + length);
    }
    List<Segment> out = new ArrayList<>();
    for (int first = 0; first < nodes; first += length) {
      out.add(new Segment(first, Math.min(nodes, first + length) - 1));
    }
    return new RecomputeSchedule(out);
  }

  /** Whether nothing is recomputed. */
  public boolean isEmpty() {
    return segments.isEmpty();
  }

  /** Nodes recomputed in all. */
  public int recomputedNodes() {
    return segments.stream().mapToInt(s -> s.last() - s.first() + 1).sum();
  }
}
