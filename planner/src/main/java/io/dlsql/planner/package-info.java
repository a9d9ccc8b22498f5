/** Network plans: the logical layer graph of a model becomes a physical plan (algorithm, layout, precision, checkpoints, threads) through a cost model; EXPLAIN renders it. */
package io.dlsql.planner;
