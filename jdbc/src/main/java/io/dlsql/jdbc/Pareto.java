package io.dlsql.jdbc;

import io.dlsql.catalog.UserException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Pareto frontier of points under objectives that are each minimised or maximised: a point is
 * dominated when another point is at least as good in every objective and strictly better in one.
 * Points with equal vectors do not dominate each other, so ties are all kept. Quadratic in the
 * number of points, which for model variants is a handful.
 */
final class Pareto {
  private Pareto() {}

  /** Whether larger or smaller values are better. */
  enum Direction {
    MIN,
    MAX
  }

  /** A column to optimise and its direction. */
  record Objective(String column, Direction direction) {
    /** Directions of the metric columns of {@code sys.models}; other columns need one written. */
    static final Map<String, Direction> DEFAULTS = Map.of(
        "accuracy", Direction.MAX,
        "throughput", Direction.MAX,
        "size_bytes", Direction.MIN,
        "latency_ms", Direction.MIN,
        "parameters", Direction.MIN,
        "loss", Direction.MIN,
        "train_loss", Direction.MIN,
        "peak_memory_bytes", Direction.MIN);

    /** {@code 'accuracy'} (known direction), {@code 'accuracy MAX'} or {@code 'size_bytes MIN'}. */
    static Objective parse(String text) {
      String[] words = text.strip().toLowerCase(Locale.ROOT).split("\\s+");
      if (words.length == 1 && !words[0].isEmpty()) {
        Direction d = DEFAULTS.get(words[0]);
        if (d == null) {
          throw new UserException("pareto: say whether to minimise or maximise '" + words[0] + "': write '"
              + words[0] + " MIN' or '" + words[0] + " MAX' (known directions: accuracy, throughput MAX;"
              + " size_bytes, latency_ms, parameters, loss, train_loss, peak_memory_bytes MIN)");
        }
        return new Objective(words[0], d);
      }
      if (words.length == 2 && (words[1].equals("min") || words[1].equals("max"))) {
        return new Objective(words[0], Direction.valueOf(words[1].toUpperCase(Locale.ROOT)));
      }
      throw new UserException("pareto: an objective is a column name with an optional MIN or MAX, such as"
          + " 'accuracy' or 'latency_ms MIN'; got '" + text + "'");
    }
  }

  /**
   * The indices, ascending, of the points no other point dominates. Every point has one value per
   * direction; NaN values are not allowed (callers drop points with missing values first).
   */
  static List<Integer> frontier(List<double[]> points, List<Direction> directions) {
    for (double[] p : points) {
      if (p.length != directions.size()) {
        throw new IllegalArgumentException("a point has " + p.length + " values for " + directions.size() + " objectives");
      }
      for (double v : p) {
        if (Double.isNaN(v)) {
          throw new IllegalArgumentException("NaN objective value");
        }
      }
    }
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < points.size(); i++) {
      boolean dominated = false;
      for (int j = 0; j < points.size() && !dominated; j++) {
        dominated = j != i && dominates(points.get(j), points.get(i), directions);
      }
      if (!dominated) {
        out.add(i);
      }
    }
    return out;
  }

  /** Whether {@code a} is at least as good as {@code b} in every objective and better in one. */
  static boolean dominates(double[] a, double[] b, List<Direction> directions) {
    boolean better = false;
    for (int k = 0; k < directions.size(); k++) {
      // Compare as "larger is better" by negating minimised objectives.
      double x = directions.get(k) == Direction.MAX ? a[k] : -a[k];
      double y = directions.get(k) == Direction.MAX ? b[k] : -b[k];
      if (x < y) {
        return false;
      }
      better |= x > y;
    }
    return better;
  }
}
