package io.dlsql.planner.search;

import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.physical.PhysicalPlan;

/**
 * One optimizer pass: a named rewrite of a physical plan into a better one. The {@link
 * PassRunner} decides from {@link #enabled} whether it runs, times it and verifies the plan after
 * it; a pass itself only rewrites.
 */
public interface PlanPass {
  /** The name EXPLAIN and the pass reports use. */
  String name();

  /** Whether the request's settings leave this pass on. */
  boolean enabled(PlanRequest request);

  /** The rewritten plan. */
  PhysicalPlan apply(PhysicalPlan plan, PlanContext context);
}
