package io.dlsql.parser;

import java.util.Arrays;
import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * The operator of one dlsql node class: its name and {@link SqlKind} for Calcite, and how to
 * rebuild the node from its operand list, so that {@code SqlShuttle} copies and {@code clone()}
 * keep the node's class instead of degrading it to a {@code SqlBasicCall}.
 */
final class DlsqlOperator extends SqlSpecialOperator {
  /** Rebuilds a node from the operands its {@code getOperandList()} returned. */
  @FunctionalInterface
  interface Factory {
    SqlCall create(SqlParserPos pos, List<SqlNode> operands);
  }

  private final Factory factory;

  DlsqlOperator(String name, SqlKind kind, Factory factory) {
    super(name, kind);
    this.factory = factory;
  }

  @Override
  public SqlCall createCall(SqlLiteral functionQualifier, SqlParserPos pos, SqlNode... operands) {
    return factory.create(pos, Arrays.asList(operands));
  }

  /** Every dlsql node unparses itself; the dialect's unparseCall lands here and goes back. */
  @Override
  public void unparse(SqlWriter writer, SqlCall call, int leftPrec, int rightPrec) {
    call.unparse(writer, leftPrec, rightPrec);
  }
}
