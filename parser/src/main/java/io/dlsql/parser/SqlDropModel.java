package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlDrop;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/** {@code DROP MODEL [IF EXISTS] m}. */
public final class SqlDropModel extends SqlDrop {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "DROP MODEL",
          SqlKind.OTHER_DDL,
          (pos, operands) ->
              new SqlDropModel(
                  pos, Unparsing.flag(operands.get(0)), (SqlIdentifier) operands.get(1)));

  private final SqlIdentifier name;

  public SqlDropModel(SqlParserPos pos, boolean ifExists, SqlIdentifier name) {
    super(OPERATOR, pos, ifExists);
    this.name = name;
  }

  public SqlIdentifier name() {
    return name;
  }

  public boolean ifExists() {
    return ifExists;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(Unparsing.flag(ifExists), name);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("DROP MODEL");
    if (ifExists) {
      writer.keyword("IF EXISTS");
    }
    name.unparse(writer, leftPrec, rightPrec);
  }
}
