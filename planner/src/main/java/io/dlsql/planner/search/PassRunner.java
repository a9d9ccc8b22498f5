package io.dlsql.planner.search;

import io.dlsql.planner.physical.PassReport;
import io.dlsql.planner.physical.PhysicalPlan;
import java.util.List;

/**
 * Runs passes in order through one wrapper: a pass the settings switch off (or every pass, with
 * {@code planner = off}) is recorded as skipped; one that runs is timed, and the plan it returns
 * is verified before the next pass sees it, so a broken rewrite is caught where it happened.
 */
public final class PassRunner {
  private final List<PlanPass> passes;

  public PassRunner(List<PlanPass> passes) {
    this.passes = List.copyOf(passes);
  }

  public List<PlanPass> passes() {
    return passes;
  }

  /** Runs every pass over {@code plan}; the result carries one {@link PassReport} per pass. */
  public PhysicalPlan run(PhysicalPlan plan, PlanContext context) {
    PlanVerifier.verify(plan, context.registry());
    PhysicalPlan current = plan;
    for (PlanPass pass : passes) {
      boolean on = context.settings().plannerOn() && pass.enabled(current.request());
      if (!on) {
        current = current.withPass(new PassReport(pass.name(), false, 0));
        continue;
      }
      long started = System.nanoTime();
      PhysicalPlan next = pass.apply(current, context);
      try {
        PlanVerifier.verify(next, context.registry());
      } catch (IllegalStateException e) {
        throw new IllegalStateException("pass " + pass.name() + " produced an invalid plan: " + e.getMessage(), e);
      }
      current = next.withPass(new PassReport(pass.name(), true, System.nanoTime() - started));
    }
    return current;
  }
}
