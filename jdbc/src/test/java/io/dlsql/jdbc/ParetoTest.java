package io.dlsql.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.jdbc.Pareto.Direction;
import io.dlsql.jdbc.Pareto.Objective;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The Pareto frontier: worked cases, ties, directions, and the frontier's defining properties on random points. */
class ParetoTest {
  private static final List<Direction> MAX_MIN = List.of(Direction.MAX, Direction.MIN);

  private static List<double[]> points(double[]... p) {
    return List.of(p);
  }

  @Test
  void staircaseOfAccuracyAgainstSize() {
    // (accuracy, size): a and c trade off; b is beaten by a (more accurate, smaller); d by c.
    List<double[]> p = points(new double[] {0.9, 100}, new double[] {0.85, 150}, new double[] {0.95, 400},
        new double[] {0.95, 500});
    assertEquals(List.of(0, 2), Pareto.frontier(p, MAX_MIN));
  }

  @Test
  void equalVectorsAreAllKept() {
    // (accuracy, size): the two (1, 1) tie and trade off against (2, 3) and (0, 0.5); (0, 2) loses to them.
    List<double[]> p = points(new double[] {1, 1}, new double[] {1, 1}, new double[] {2, 3}, new double[] {0, 0.5},
        new double[] {0, 2});
    assertEquals(List.of(0, 1, 2, 3), Pareto.frontier(p, MAX_MIN));
  }

  @Test
  void oneObjectiveKeepsEveryBestValue() {
    List<double[]> p = points(new double[] {3}, new double[] {5}, new double[] {5}, new double[] {4});
    assertEquals(List.of(1, 2), Pareto.frontier(p, List.of(Direction.MAX)));
    assertEquals(List.of(0), Pareto.frontier(p, List.of(Direction.MIN)));
  }

  @Test
  void directionsFlipTheFrontier() {
    List<double[]> p = points(new double[] {1, 1}, new double[] {2, 2});
    assertEquals(List.of(1), Pareto.frontier(p, List.of(Direction.MAX, Direction.MAX)));
    assertEquals(List.of(0), Pareto.frontier(p, List.of(Direction.MIN, Direction.MIN)));
    assertEquals(List.of(0, 1), Pareto.frontier(p, MAX_MIN));
  }

  @Test
  void emptyAndSingleInputs() {
    assertEquals(List.of(), Pareto.frontier(List.of(), MAX_MIN));
    assertEquals(List.of(0), Pareto.frontier(points(new double[] {0, 0}), MAX_MIN));
  }

  @Test
  void rejectsNaNAndWrongArity() {
    assertThrows(IllegalArgumentException.class, () -> Pareto.frontier(points(new double[] {Double.NaN, 1}), MAX_MIN));
    assertThrows(IllegalArgumentException.class, () -> Pareto.frontier(points(new double[] {1}), MAX_MIN));
  }

  @Test
  void dominanceIsAStrictOrder() {
    Random random = new Random(7);
    for (int trial = 0; trial < 2000; trial++) {
      List<Direction> d = randomDirections(random, 1 + random.nextInt(4));
      double[] a = randomPoint(random, d.size());
      double[] b = randomPoint(random, d.size());
      double[] c = randomPoint(random, d.size());
      assertFalse(Pareto.dominates(a, a, d), "irreflexive");
      assertFalse(Pareto.dominates(a, b, d) && Pareto.dominates(b, a, d), "asymmetric");
      if (Pareto.dominates(a, b, d) && Pareto.dominates(b, c, d)) {
        assertTrue(Pareto.dominates(a, c, d), "transitive");
      }
    }
  }

  /**
   * On random points with many ties (values from a small grid): no returned point is dominated by
   * any point, and every point left out is dominated by a returned one (what makes the returned
   * set the frontier, checked independently of how frontier() searches).
   */
  @Test
  void randomPointsHaveExactlyTheirNonDominatedOnesReturned() {
    Random random = new Random(42);
    for (int trial = 0; trial < 500; trial++) {
      int n = random.nextInt(40);
      List<Direction> d = randomDirections(random, 1 + random.nextInt(4));
      List<double[]> p = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        p.add(randomPoint(random, d.size()));
      }
      List<Integer> frontier = Pareto.frontier(p, d);
      for (int k = 1; k < frontier.size(); k++) {
        assertTrue(frontier.get(k - 1) < frontier.get(k), "ascending indices");
      }
      Set<Integer> kept = new HashSet<>(frontier);
      for (int i = 0; i < n; i++) {
        if (kept.contains(i)) {
          for (double[] q : p) {
            assertFalse(Pareto.dominates(q, p.get(i), d), "a frontier point is dominated");
          }
        } else {
          boolean dominatedByFrontier = false;
          for (int j : frontier) {
            dominatedByFrontier |= Pareto.dominates(p.get(j), p.get(i), d);
          }
          assertTrue(dominatedByFrontier, "a point left out is dominated by no frontier point");
        }
      }
      if (n > 0) {
        assertFalse(frontier.isEmpty(), "a non-empty set has a frontier");
      }
    }
  }

  @Test
  void objectivesParseWithKnownOrWrittenDirections() {
    assertEquals(new Objective("accuracy", Direction.MAX), Objective.parse("accuracy"));
    assertEquals(new Objective("size_bytes", Direction.MIN), Objective.parse(" Size_Bytes "));
    assertEquals(new Objective("latency_ms", Direction.MIN), Objective.parse("latency_ms"));
    assertEquals(new Objective("throughput", Direction.MAX), Objective.parse("throughput"));
    assertEquals(new Objective("accuracy", Direction.MIN), Objective.parse("accuracy min"));
    assertEquals(new Objective("score", Direction.MAX), Objective.parse("score  MAX"));
    assertThrows(UserException.class, () -> Objective.parse("score"));
    assertThrows(UserException.class, () -> Objective.parse("score upward"));
    assertThrows(UserException.class, () -> Objective.parse("a b c"));
    assertThrows(UserException.class, () -> Objective.parse("  "));
  }

  private static List<Direction> randomDirections(Random random, int k) {
    List<Direction> d = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      d.add(random.nextBoolean() ? Direction.MAX : Direction.MIN);
    }
    return d;
  }

  private static double[] randomPoint(Random random, int k) {
    double[] p = new double[k];
    for (int i = 0; i < k; i++) {
      p[i] = random.nextInt(4) * 0.25;
    }
    return p;
  }
}
