package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * {@code EXPLAIN [ANALYZE] TRAIN MODEL ... | EVALUATE MODEL ... | PREDICT(...)}: the physical
 * network plan, with ANALYZE also running it for actual times and memory. Calcite's own {@code
 * EXPLAIN PLAN FOR query} stays a {@code SqlExplain}.
 */
public final class SqlExplainModel extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "EXPLAIN MODEL",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlExplainModel(pos, Unparsing.flag(operands.get(0)), operands.get(1)));

  private final boolean analyze;
  private final SqlNode statement;

  /** {@code statement} is a TRAIN, EVALUATE or PREDICT node. */
  public SqlExplainModel(SqlParserPos pos, boolean analyze, SqlNode statement) {
    super(pos);
    if (!(statement instanceof SqlModelOnData || statement instanceof SqlPredict)) {
      throw new IllegalStateException("cannot explain " + statement.getKind());
    }
    this.analyze = analyze;
    this.statement = statement;
  }

  /** True for EXPLAIN ANALYZE: run the statement and report measured figures. */
  public boolean analyze() {
    return analyze;
  }

  /** The explained statement: a TRAIN, EVALUATE or PREDICT node. */
  public SqlNode statement() {
    return statement;
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(Unparsing.flag(analyze), statement);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("EXPLAIN");
    if (analyze) {
      writer.keyword("ANALYZE");
    }
    statement.unparse(writer, 0, 0);
  }
}
