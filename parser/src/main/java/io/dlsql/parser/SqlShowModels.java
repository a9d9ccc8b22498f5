package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/** {@code SHOW MODELS}: one row per model in the catalog. */
public final class SqlShowModels extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator("SHOW MODELS", SqlKind.OTHER, (pos, operands) -> new SqlShowModels(pos));

  public SqlShowModels(SqlParserPos pos) {
    super(pos);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return List.of();
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("SHOW MODELS");
  }
}
