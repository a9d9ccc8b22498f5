package io.dlsql.parser;

import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code TRAIN MODEL m ON (query) | ON t [WITH (epochs = 5, batch_size = 128, ...)]}: fits the
 * model to the rows; returns one row per epoch.
 */
public final class SqlTrainModel extends SqlModelOnData {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "TRAIN MODEL",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlTrainModel(
                  pos,
                  (SqlIdentifier) operands.get(0),
                  operands.get(1),
                  (SqlNodeList) operands.get(2)));

  /** {@code options} may be null or empty when there is no WITH clause. */
  public SqlTrainModel(
      SqlParserPos pos, SqlIdentifier model, SqlNode source, SqlNodeList options) {
    super(pos, model, source, options);
  }

  @Override
  String verb() {
    return "TRAIN";
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }
}
