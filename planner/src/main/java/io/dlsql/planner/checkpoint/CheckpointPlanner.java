package io.dlsql.planner.checkpoint;

import io.dlsql.catalog.UserException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Chooses which stages of a training step keep their activations and which are recomputed, so
 * the step fits a memory limit with the least recomputation. Within the family of schedules the
 * {@link StageModel} describes (each stage stored, or recomputed once from the checkpoint at the
 * start of its segment), the search is exact: dynamic programming over the stage boundaries,
 * keeping at each boundary every Pareto-optimal (bytes stored, peak so far, recompute time)
 * state, so no state that could still lead to a better schedule is dropped. Recomputing each
 * stage at most once bounds a step at one extra forward, which is what a memory limit should
 * cost; {@link StageModel#sqrtSegments()} is the baseline it is compared with.
 */
public final class CheckpointPlanner {
  private CheckpointPlanner() {}

  private record Entry(StageModel.State state, Entry parent, Segment segment) {}

  /**
   * The schedule with the least recompute time whose peak, persistent bytes included, is at most
   * {@code limitBytes}; ties go to the lower peak.
   *
   * @throws UserException when no schedule fits, stating the least memory any schedule needs
   */
  public static List<Segment> optimal(StageModel model, long limitBytes) {
    long budget = limitBytes - model.persistentBytes();
    List<Entry> finals = search(model, budget);
    if (finals.isEmpty()) {
      long minimum = minimumPeak(model);
      throw new UserException(
          "memory_limit " + formatBytes(limitBytes) + " is below the least memory this model can"
              + " train in at this batch size, " + formatBytes(minimum) + " (" + minimum
              + " bytes, with every activation recomputed that can be); raise memory_limit to at"
              + " least that, or lower batch_size");
    }
    Entry best = Collections.min(finals, Comparator
        .comparingDouble((Entry e) -> e.state().nanos())
        .thenComparingLong(e -> e.state().peak()));
    return segments(best);
  }

  /** The least peak memory (persistent bytes included) any schedule of this model reaches. */
  public static long minimumPeak(StageModel model) {
    List<Entry> finals = search(model, Long.MAX_VALUE);
    long least = Long.MAX_VALUE;
    for (Entry e : finals) {
      least = Math.min(least, e.state().peak());
    }
    return model.persistentBytes() + least;
  }

  private static List<Entry> search(StageModel model, long budget) {
    int n = model.stages().size();
    List<List<Entry>> frontier = new ArrayList<>();
    for (int i = 0; i <= n; i++) {
      frontier.add(new ArrayList<>());
    }
    if (budget < 0) {
      return List.of();
    }
    frontier.get(0).add(new Entry(StageModel.State.START, null, null));
    for (int i = 0; i < n; i++) {
      for (Entry e : frontier.get(i)) {
        offer(frontier.get(i + 1), model, e, new Segment(i, i, false), budget);
        for (int last = i; last < n; last++) {
          offer(frontier.get(last + 1), model, e, new Segment(i, last, true), budget);
        }
      }
      frontier.set(i, List.of()); // no longer needed; keeps memory flat on deep networks
    }
    return frontier.get(n);
  }

  private static void offer(List<Entry> into, StageModel model, Entry from, Segment seg, long budget) {
    StageModel.State next = model.step(from.state(), seg);
    if (next.peak() > budget) {
      return;
    }
    for (Entry other : into) {
      if (dominates(other.state(), next)) {
        return;
      }
    }
    into.removeIf(other -> dominates(next, other.state()));
    into.add(new Entry(next, from, seg));
  }

  /** Whether {@code a} is at least as good as {@code b} in every respect that matters later. */
  private static boolean dominates(StageModel.State a, StageModel.State b) {
    // A stored boundary never costs more later, so it may dominate one that is not stored.
    return a.stored() <= b.stored() && a.peak() <= b.peak() && a.nanos() <= b.nanos()
        && (a.boundaryStored() || !b.boundaryStored())
        && (a.boundaryStored() == b.boundaryStored() || a.stored() <= b.stored());
  }

  private static List<Segment> segments(Entry last) {
    List<Segment> out = new ArrayList<>();
    for (Entry e = last; e.segment() != null; e = e.parent()) {
      out.add(e.segment());
    }
    Collections.reverse(out);
    return out;
  }

  /** Bytes for messages: {@code 512.0 MB}. */
  public static String formatBytes(long bytes) {
    final double unit = 1024;
    String[] names = {"B", "KB", "MB", "GB", "TB"};
    double v = bytes;
    int i = 0;
    while (v >= unit && i < names.length - 1) {
      v /= unit;
      i++;
    }
    return i == 0 ? bytes + " B" : String.format(java.util.Locale.ROOT, "%.1f %s", v, names[i]);
  }
}
