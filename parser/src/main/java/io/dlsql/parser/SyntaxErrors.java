package io.dlsql.parser;

import org.apache.calcite.runtime.CalciteContextException;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.validate.SqlValidatorException;

/**
 * Syntax errors that dlsql's grammar detects itself (duplicate option, missing INPUT, bad tensor
 * dimension). Calcite's parser turns the returned exception into a {@code SqlParseException}
 * that carries the position, and whose message names the line and column like Calcite's own.
 */
public final class SyntaxErrors {
  private SyntaxErrors() {}

  /** An error at {@code pos}; throw the result from a grammar action. */
  public static CalciteContextException at(SqlParserPos pos, String message) {
    String positioned =
        message + " at line " + pos.getLineNum() + ", column " + pos.getColumnNum();
    return new CalciteContextException(
        positioned,
        new SqlValidatorException(positioned, null),
        pos.getLineNum(),
        pos.getColumnNum(),
        pos.getEndLineNum(),
        pos.getEndColumnNum());
  }
}
