package io.dlsql.parser;

import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.parser.SqlParserPos;

/** {@code SHOW TABLES}: one row per table in the catalog. */
public final class SqlShowTables extends SqlShowObjects {
  static final SqlOperator OPERATOR =
      new DlsqlOperator("SHOW TABLES", SqlKind.OTHER, (pos, operands) -> new SqlShowTables(pos));

  public SqlShowTables(SqlParserPos pos) {
    super(pos);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }
}
