/**
 * The catalog: one data directory holding tables (Arrow IPC files), models (definition, weights,
 * lineage, metrics), checkpoints, the training log and tuning records, all written crash-safely.
 * {@link io.dlsql.catalog.Catalog} is the entry point; {@code storage} holds the on-disk formats
 * and {@code source} the external data readers (IDX, CSV) and the file access policy.
 */
package io.dlsql.catalog;
