package io.dlsql.parser;

import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * A built-in architecture in {@code CREATE MODEL m AS RESNET(depth => 20, width => 2)}: its name
 * and arguments. Which architectures exist, and their parameters, is the engine's business.
 */
public final class SqlArchitecture extends SqlNamedInvocation {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "ARCHITECTURE",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlArchitecture(
                  pos, (SqlIdentifier) operands.get(0), (SqlNodeList) operands.get(1)));

  /** {@code args} is null when no parentheses were written. */
  public SqlArchitecture(SqlParserPos pos, SqlIdentifier name, SqlNodeList args) {
    super(pos, name, args);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }
}
