package io.dlsql.parser;

import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.parser.SqlParserPos;

/** {@code DROP TABLE [IF EXISTS] t}. */
public final class SqlDropTable extends SqlDropObject {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "DROP TABLE",
          SqlKind.DROP_TABLE,
          (pos, operands) ->
              new SqlDropTable(
                  pos, Unparsing.flag(operands.get(0)), (SqlIdentifier) operands.get(1)));

  public SqlDropTable(SqlParserPos pos, boolean ifExists, SqlIdentifier name) {
    super(OPERATOR, pos, ifExists, name);
  }
}
