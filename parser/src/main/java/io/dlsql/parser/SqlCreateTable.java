package io.dlsql.parser;

import java.util.List;
import java.util.Optional;
import org.apache.calcite.sql.SqlCreate;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * {@code CREATE [OR REPLACE] TABLE [IF NOT EXISTS] t (columns) [AS query]} or {@code ... t AS
 * query}. With both a column list and a query, the columns give names and types (for example
 * TENSOR types) to the query's columns in order.
 */
public final class SqlCreateTable extends SqlCreate {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "CREATE TABLE",
          SqlKind.CREATE_TABLE,
          (pos, operands) ->
              new SqlCreateTable(
                  pos,
                  Unparsing.flag(operands.get(0)),
                  Unparsing.flag(operands.get(1)),
                  (SqlIdentifier) operands.get(2),
                  (SqlNodeList) operands.get(3),
                  operands.get(4)));

  private final SqlIdentifier name;
  private final SqlNodeList columns;
  private final SqlNode query;

  /** {@code columns} and {@code query} may each be null, not both. */
  public SqlCreateTable(
      SqlParserPos pos,
      boolean replace,
      boolean ifNotExists,
      SqlIdentifier name,
      SqlNodeList columns,
      SqlNode query) {
    super(OPERATOR, pos, replace, ifNotExists);
    if (columns == null && query == null) {
      throw new IllegalStateException("CREATE TABLE needs columns or a query");
    }
    this.name = name;
    this.columns = columns;
    this.query = query;
  }

  public SqlIdentifier name() {
    return name;
  }

  /** The declared columns; empty for a plain {@code CREATE TABLE t AS query}. */
  public List<SqlColumnDeclaration> columns() {
    return columns == null
        ? List.of()
        : columns.stream().map(SqlColumnDeclaration.class::cast).toList();
  }

  /** The query whose rows fill the table, when there is one. */
  public Optional<SqlNode> query() {
    return Optional.ofNullable(query);
  }

  public boolean replace() {
    return getReplace();
  }

  public boolean ifNotExists() {
    return ifNotExists;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(
        Unparsing.flag(getReplace()), Unparsing.flag(ifNotExists), name, columns, query);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("CREATE");
    if (getReplace()) {
      writer.keyword("OR REPLACE");
    }
    writer.keyword("TABLE");
    if (ifNotExists) {
      writer.keyword("IF NOT EXISTS");
    }
    name.unparse(writer, leftPrec, rightPrec);
    if (columns != null) {
      SqlWriter.Frame frame = writer.startList("(", ")");
      for (SqlNode column : columns) {
        writer.sep(",");
        column.unparse(writer, 0, 0);
      }
      writer.endList(frame);
    }
    if (query != null) {
      writer.keyword("AS");
      writer.newlineAndIndent();
      query.unparse(writer, 0, 0);
    }
  }
}
