package io.dlsql.planner.checkpoint;

import java.util.List;

/**
 * Which activations a training step keeps and which it recomputes: the stage segments in order,
 * the checkpoint tensors (logical tensor numbers, the network input excluded), and what the
 * schedule costs: its peak memory (persistent bytes included), and the extra forward time and
 * FLOPs of recomputation.
 *
 * @param method how it was chosen: {@code optimal}, {@code sqrt} or {@code none}
 */
public record CheckpointSchedule(
    String method,
    List<Segment> segments,
    List<Integer> checkpointTensors,
    long peakBytes,
    double recomputeNanos,
    long recomputeFlops) {

  public CheckpointSchedule {
    segments = List.copyOf(segments);
    checkpointTensors = List.copyOf(checkpointTensors);
  }

  /** How many stages are recomputed. */
  public int recomputedStages() {
    return segments.stream().filter(Segment::recomputed).mapToInt(s -> s.last() - s.first() + 1).sum();
  }
}
