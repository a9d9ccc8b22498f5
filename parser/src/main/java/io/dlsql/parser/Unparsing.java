package io.dlsql.parser;

import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * Shared pieces of dlsql's nodes: how values, argument lists, WITH options and data sources are
 * written back as SQL (so every statement round-trips), and the boolean flags that travel as
 * literal operands so that operand lists describe a node completely.
 */
final class Unparsing {
  /** A word that re-parses unquoted as a keyword or identifier. */
  private static final Pattern WORD = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");

  private Unparsing() {}

  static SqlLiteral flag(boolean value) {
    return SqlLiteral.createBoolean(value, SqlParserPos.ZERO);
  }

  static boolean flag(SqlNode operand) {
    return ((SqlLiteral) operand).booleanValue();
  }

  static SqlNodeList listOrEmpty(SqlNode operand) {
    return operand == null ? SqlNodeList.EMPTY : (SqlNodeList) operand;
  }

  /** Names that are keywords rather than references (layer kinds, argument and option names). */
  static boolean isWord(String name) {
    return WORD.matcher(name).matches();
  }

  static String upper(String name) {
    return name.toUpperCase(Locale.ROOT);
  }

  static String lower(String name) {
    return name.toLowerCase(Locale.ROOT);
  }

  /** Writes a keyword-like name unquoted (upper case) so it re-parses whatever it collides with. */
  static void word(SqlWriter writer, String name) {
    if (isWord(name)) {
      writer.keyword(upper(name));
    } else {
      writer.identifier(name, true);
    }
  }

  /** Writes a value of a layer argument or option: tuples get their parentheses back. */
  static void value(SqlWriter writer, SqlNode value) {
    if (value instanceof SqlNodeList tuple) {
      SqlWriter.Frame frame = writer.startList(SqlWriter.FrameTypeEnum.PARENTHESES, "(", ")");
      for (SqlNode item : tuple) {
        writer.sep(",");
        value(writer, item);
      }
      writer.endList(frame);
    } else {
      value.unparse(writer, 0, 0);
    }
  }

  /** Writes {@code (arg, NAME value, ...)} of a layer, architecture or compression method. */
  static void arguments(SqlWriter writer, SqlNodeList args) {
    SqlWriter.Frame frame = writer.startList(SqlWriter.FrameTypeEnum.FUN_CALL, "(", ")");
    for (SqlNode arg : args) {
      writer.sep(",");
      if (arg instanceof SqlNamedArgument) {
        arg.unparse(writer, 0, 0);
      } else {
        value(writer, arg);
      }
    }
    writer.endList(frame);
  }

  /** Writes {@code WITH (key = value, ...)}; nothing when there are no options. */
  static void options(SqlWriter writer, SqlNodeList options) {
    if (options.isEmpty()) {
      return;
    }
    writer.keyword("WITH");
    SqlWriter.Frame frame = writer.startList(SqlWriter.FrameTypeEnum.PARENTHESES, "(", ")");
    for (SqlNode option : options) {
      writer.sep(",");
      option.unparse(writer, 0, 0);
    }
    writer.endList(frame);
  }

  /** Writes a query in its own parentheses, or a table name ({@code TABLE t} when asked). */
  static void source(SqlWriter writer, SqlNode source, boolean tableKeyword) {
    if (source instanceof SqlIdentifier table) {
      if (tableKeyword) {
        writer.keyword("TABLE");
      }
      table.unparse(writer, 0, 0);
      return;
    }
    // Same as SqlSelect does for a sub-query: one frame with the parentheses, and the query
    // written inside it without adding its own.
    SqlWriter.Frame frame = writer.startList(SqlWriter.FrameTypeEnum.SUB_QUERY, "(", ")");
    if (source instanceof SqlCall call) {
      writer.getDialect().unparseCall(writer, call, 0, 0);
    } else {
      source.unparse(writer, 0, 0);
    }
    writer.endList(frame);
  }

  /** A data source as a query: a table name {@code t} becomes {@code SELECT * FROM t}. */
  static SqlNode sourceQuery(SqlNode source) {
    if (!(source instanceof SqlIdentifier table)) {
      return source;
    }
    SqlParserPos pos = table.getParserPosition();
    return new SqlSelect(
        pos, null, SqlNodeList.of(SqlIdentifier.star(pos)), table,
        null, null, null, null, null, null, null, null, null);
  }
}
