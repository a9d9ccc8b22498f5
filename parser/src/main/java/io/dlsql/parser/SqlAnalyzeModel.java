package io.dlsql.parser;

import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * {@code ANALYZE MODEL m [WITH (...)]}: measures the model's kernels on this machine and stores
 * tuning records, the way ANALYZE gathers statistics for a table.
 */
public final class SqlAnalyzeModel extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "ANALYZE MODEL",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlAnalyzeModel(
                  pos, (SqlIdentifier) operands.get(0), (SqlNodeList) operands.get(1)));

  private final SqlIdentifier model;
  private final SqlNodeList options;

  /** {@code options} may be null or empty when there is no WITH clause. */
  public SqlAnalyzeModel(SqlParserPos pos, SqlIdentifier model, SqlNodeList options) {
    super(pos);
    this.model = model;
    this.options = options == null ? SqlNodeList.EMPTY : options;
  }

  public SqlIdentifier model() {
    return model;
  }

  /** WITH options by lower-case key; empty without WITH. */
  public Map<String, Object> options() {
    return SqlOption.toMap(options);
  }

  public List<SqlOption> optionList() {
    return SqlOption.list(options);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(model, options);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("ANALYZE MODEL");
    model.unparse(writer, 0, 0);
    Unparsing.options(writer, options);
  }
}
