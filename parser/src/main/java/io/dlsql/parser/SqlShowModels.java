package io.dlsql.parser;

import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.parser.SqlParserPos;

/** {@code SHOW MODELS}: one row per model in the catalog. */
public final class SqlShowModels extends SqlShowObjects {
  static final SqlOperator OPERATOR =
      new DlsqlOperator("SHOW MODELS", SqlKind.OTHER, (pos, operands) -> new SqlShowModels(pos));

  public SqlShowModels(SqlParserPos pos) {
    super(pos);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }
}
