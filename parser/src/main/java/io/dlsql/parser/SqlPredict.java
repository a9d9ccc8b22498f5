package io.dlsql.parser;

import java.util.List;
import java.util.Optional;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * {@code PREDICT(MODEL m, (query) | TABLE t | t)}: the model applied to every input row, as a
 * table reference usable wherever a table is (joins, sub-queries, aliases with column lists);
 * also the operand of {@code EXPLAIN [ANALYZE] PREDICT(...)}.
 *
 * <p>In a FROM clause the parser produces this node itself; an alias wraps it the way Calcite
 * wraps any table reference: {@code AS(SqlPredict, p [, column aliases...])}.
 */
public final class SqlPredict extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "PREDICT",
          SqlKind.OTHER,
          (pos, operands) -> new SqlPredict(pos, (SqlIdentifier) operands.get(0), operands.get(1)));

  private final SqlIdentifier model;
  private final SqlNode input;

  /** {@code input} is a query, or a {@link SqlIdentifier} naming a table. */
  public SqlPredict(SqlParserPos pos, SqlIdentifier model, SqlNode input) {
    super(pos);
    this.model = model;
    this.input = input;
  }

  public SqlIdentifier model() {
    return model;
  }

  /** The input as written: a query, or a {@link SqlIdentifier} naming a table. */
  public SqlNode input() {
    return input;
  }

  /** The table, when the input was given as {@code TABLE t} or {@code t}. */
  public Optional<SqlIdentifier> inputTable() {
    return input instanceof SqlIdentifier table ? Optional.of(table) : Optional.empty();
  }

  /** The input as a query; a table {@code t} reads as {@code SELECT * FROM t}. */
  public SqlNode query() {
    return Unparsing.sourceQuery(input);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(model, input);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("PREDICT");
    SqlWriter.Frame frame = writer.startList(SqlWriter.FrameTypeEnum.FUN_CALL, "(", ")");
    writer.sep(",");
    writer.keyword("MODEL");
    model.unparse(writer, 0, 0);
    writer.sep(",");
    Unparsing.source(writer, input, true);
    writer.endList(frame);
  }
}
