package io.dlsql.parser;

import io.dlsql.parser.impl.DlsqlParserImpl;
import org.apache.calcite.avatica.util.Casing;
import org.apache.calcite.avatica.util.Quoting;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;

/**
 * The entry point to dlsql's SQL front end: Calcite's parser with dlsql's statements, configured
 * the way dlsql reads SQL (double-quoted identifiers, unquoted names folded to lower case).
 * Syntax errors are Calcite's {@link SqlParseException}, whose message names line and column.
 */
public final class DlsqlParser {
  /** The longest identifier accepted, as in Calcite's default. */
  public static final int IDENTIFIER_MAX_LENGTH = 128;

  private DlsqlParser() {}

  /** The parser configuration every dlsql component uses (JDBC sessions, scripts, tests). */
  public static SqlParser.Config config() {
    return SqlParser.config()
        .withParserFactory(DlsqlParserImpl.FACTORY)
        .withQuoting(Quoting.DOUBLE_QUOTE)
        .withUnquotedCasing(Casing.TO_LOWER)
        .withQuotedCasing(Casing.UNCHANGED)
        .withCaseSensitive(false)
        .withIdentifierMaxLength(IDENTIFIER_MAX_LENGTH);
  }

  /** Parses one statement (a trailing semicolon is not allowed; see {@link #parseStatements}). */
  public static SqlNode parse(String sql) throws SqlParseException {
    return SqlParser.create(sql, config()).parseStmt();
  }

  /** Parses a script of statements separated by semicolons. */
  public static SqlNodeList parseStatements(String sql) throws SqlParseException {
    return SqlParser.create(sql, config()).parseStmtList();
  }
}
