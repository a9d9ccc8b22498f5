package io.dlsql.planner;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.planner.checkpoint.CheckpointPlanner;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.PlanCost;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.logical.LogicalPlan;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.search.CheckpointPass;
import io.dlsql.planner.search.FusionPass;
import io.dlsql.planner.search.LayoutAlgorithmSearch;
import io.dlsql.planner.search.PassRunner;
import io.dlsql.planner.search.PlanBuilder;
import io.dlsql.planner.search.PlanContext;
import io.dlsql.planner.search.PrecisionPass;
import io.dlsql.planner.search.ThreadsPass;
import java.util.List;

/**
 * The planner's entry point: a network spec and a request in, a costed {@link PhysicalPlan} out.
 * It starts from the plan the executor would run by itself (its default kernels, NCHW, nothing
 * fused, everything kept) and runs the passes in order: {@code algorithm_layout}, {@code fusion},
 * {@code threads}, {@code precision}, {@code checkpointing}. With {@code planner = off} no pass
 * runs and the plan is the executor's defaults, still costed so EXPLAIN can show it.
 */
public final class Planner {
  private final KernelRegistry registry;
  private final PassRunner passes;

  /** A planner choosing among these implementations. */
  public Planner(KernelRegistry registry) {
    this.registry = registry;
    this.passes = new PassRunner(List.of(new LayoutAlgorithmSearch(), new FusionPass(), new ThreadsPass(),
        new PrecisionPass(), new CheckpointPass()));
  }

  /** A planner choosing among the kernels the executor runs today. */
  public static Planner forExecutor() {
    return new Planner(KernelRegistry.executable());
  }

  public KernelRegistry registry() {
    return registry;
  }

  /** Names of the passes, in the order they run. */
  public List<String> passNames() {
    return passes.passes().stream().map(p -> p.name()).toList();
  }

  /**
   * Plans {@code spec} for {@code request} on a machine with these ceilings, preferring measured
   * kernel times from {@code tuning} where they exist.
   *
   * @throws UserException for settings naming kernels that do not exist, or a memory limit no
   *     schedule fits (the message states the least that fits)
   */
  public PhysicalPlan plan(NetworkSpec spec, PlanRequest request, MachineProfile machine, TuningRecords tuning) {
    LogicalPlan logical = LogicalPlan.of(spec);
    CostModel cost = new CostModel(machine, tuning);
    PlanContext context = new PlanContext(registry, cost, request.settings());
    int threads = request.settings().threads().orElse(machine.maxThreads());
    PhysicalPlan initial = PlanBuilder.executorDefaults(logical, request, registry, threads);
    PhysicalPlan plan = passes.run(initial, context);
    PlanCost planCost = cost.cost(plan);
    long limit = request.memoryLimitBytes();
    if (request.mode() == Mode.TRAIN && limit > 0 && request.settings().plannerOn()
        && plan.checkpoints() == null && planCost.peakBytes() > limit) {
      throw new UserException("the estimated peak memory " + CheckpointPlanner.formatBytes(planCost.peakBytes())
          + " is above memory_limit " + CheckpointPlanner.formatBytes(limit)
          + " and checkpointing is off; SET checkpointing = optimal, or raise memory_limit");
    }
    return plan.withCost(planCost);
  }
}
