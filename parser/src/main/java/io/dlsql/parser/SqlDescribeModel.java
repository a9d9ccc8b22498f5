package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * {@code DESCRIBE MODEL m}: the model's layers, shapes and metrics. (Calcite's {@code DESCRIBE
 * [TABLE] t} is unchanged; a table literally named {@code model} is {@code DESCRIBE TABLE model}.)
 */
public final class SqlDescribeModel extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "DESCRIBE MODEL",
          SqlKind.OTHER,
          (pos, operands) -> new SqlDescribeModel(pos, (SqlIdentifier) operands.get(0)));

  private final SqlIdentifier model;

  public SqlDescribeModel(SqlParserPos pos, SqlIdentifier model) {
    super(pos);
    this.model = model;
  }

  public SqlIdentifier model() {
    return model;
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(model);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("DESCRIBE MODEL");
    model.unparse(writer, 0, 0);
  }
}
