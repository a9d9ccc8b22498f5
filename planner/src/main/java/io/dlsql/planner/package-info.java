/**
 * Network plans: {@link io.dlsql.planner.Planner#plan} turns a model's logical layer graph into a
 * costed physical plan (algorithm, layout, conversions, fusion, precision, threads, kept or
 * recomputed activations) through named passes over a cost model; {@code explain} renders it.
 * See the module README for the stages.
 */
package io.dlsql.planner;
