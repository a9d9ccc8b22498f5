/** The catalog: one data directory holding tables (Arrow IPC files), models (definition, weights, lineage), the training log and tuning records; crash-safe writes; the data sources (IDX, CSV). */
package io.dlsql.catalog;
