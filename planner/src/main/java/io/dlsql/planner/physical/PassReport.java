package io.dlsql.planner.physical;

/**
 * One optimizer pass as it ran: its name, whether the settings left it on, and how long it took
 * (verification of the plan after it included).
 */
public record PassReport(String name, boolean enabled, long nanos) {}
