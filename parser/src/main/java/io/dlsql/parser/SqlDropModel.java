package io.dlsql.parser;

import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.parser.SqlParserPos;

/** {@code DROP MODEL [IF EXISTS] m}. */
public final class SqlDropModel extends SqlDropObject {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "DROP MODEL",
          SqlKind.OTHER_DDL,
          (pos, operands) ->
              new SqlDropModel(
                  pos, Unparsing.flag(operands.get(0)), (SqlIdentifier) operands.get(1)));

  public SqlDropModel(SqlParserPos pos, boolean ifExists, SqlIdentifier name) {
    super(OPERATOR, pos, ifExists, name);
  }
}
