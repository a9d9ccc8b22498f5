package io.dlsql.planner.explain;

/**
 * One row of EXPLAIN, as JDBC returns it: the plan root, a stage (the graph between two
 * articulation points), an operator, a layout conversion, a pass, or a total. {@code depth} is
 * the indentation in the tree (0 root, 1 stage, 2 operator or conversion, 3 a fused member under
 * its group's first operator); columns that do not apply to a kind are empty strings, -1 or 0.
 *
 * @param conversions the conversions feeding this operator, e.g. {@code #4 nchw->nchwc}
 * @param fusion the fusion group's label, e.g. {@code conv1+bn1+relu1}
 * @param residency kept, recomputed, checkpoint or - (see {@code Residency})
 * @param estimatedMs forward + backward + recompute time per batch (for a pass: its run time)
 * @param estimatedBytes output, private saved buffers and workspace (for totals: the total)
 */
public record ExplainRow(
    Kind kind,
    int id,
    int depth,
    String operator,
    String name,
    String algorithm,
    String layout,
    String conversions,
    String fusion,
    String precision,
    String residency,
    int threads,
    double estimatedMs,
    long estimatedBytes) {

  /** What a row describes. */
  public enum Kind {
    PLAN,
    STAGE,
    OPERATOR,
    CONVERSION,
    PASS,
    TOTAL
  }
}
