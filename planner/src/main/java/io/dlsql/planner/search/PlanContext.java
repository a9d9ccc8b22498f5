package io.dlsql.planner.search;

import io.dlsql.planner.PlannerSettings;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.kernel.KernelRegistry;

/** What every pass reads: the candidate kernels, the cost model and the session's settings. */
public record PlanContext(KernelRegistry registry, CostModel cost, PlannerSettings settings) {}
