package io.dlsql.parser;

import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * The method after {@code COMPRESS ... USING}: {@code QUANTIZE(int8)}, {@code PRUNE(0.8, METHOD
 * 'l1', SCOPE 'global')}, {@code DISTILL(STUDENT small, TEMPERATURE 4)}. The engine decides
 * which methods exist and what their arguments mean.
 */
public final class SqlCompressionMethod extends SqlNamedInvocation {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "COMPRESSION METHOD",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlCompressionMethod(
                  pos, (SqlIdentifier) operands.get(0), (SqlNodeList) operands.get(1)));

  /** {@code args} is null when no parentheses were written. */
  public SqlCompressionMethod(SqlParserPos pos, SqlIdentifier name, SqlNodeList args) {
    super(pos, name, args);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }
}
