package io.dlsql.parser;

import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code EVALUATE MODEL m ON (query) | ON t [WITH (...)]}: measures the trained model on
 * labelled rows (accuracy, loss, per-class rows).
 */
public final class SqlEvaluateModel extends SqlModelOnData {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "EVALUATE MODEL",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlEvaluateModel(
                  pos,
                  (SqlIdentifier) operands.get(0),
                  operands.get(1),
                  (SqlNodeList) operands.get(2)));

  /** {@code options} may be null or empty when there is no WITH clause. */
  public SqlEvaluateModel(
      SqlParserPos pos, SqlIdentifier model, SqlNode source, SqlNodeList options) {
    super(pos, model, source, options);
  }

  @Override
  String verb() {
    return "EVALUATE";
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }
}
