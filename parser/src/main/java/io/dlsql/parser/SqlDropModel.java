package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * {@code DROP MODEL [IF EXISTS] m [CASCADE]}: without CASCADE a model that other models name as
 * their parent (compressed variants) is not dropped; with it they are dropped too.
 */
public final class SqlDropModel extends SqlDropObject {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "DROP MODEL",
          SqlKind.OTHER_DDL,
          (pos, operands) ->
              new SqlDropModel(
                  pos, Unparsing.flag(operands.get(0)), (SqlIdentifier) operands.get(1),
                  operands.size() > 2 && Unparsing.flag(operands.get(2))));

  private final boolean cascade;

  public SqlDropModel(SqlParserPos pos, boolean ifExists, SqlIdentifier name) {
    this(pos, ifExists, name, false);
  }

  public SqlDropModel(SqlParserPos pos, boolean ifExists, SqlIdentifier name, boolean cascade) {
    super(OPERATOR, pos, ifExists, name);
    this.cascade = cascade;
  }

  /** Whether the model's variants (and theirs) are dropped with it. */
  public boolean cascade() {
    return cascade;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(Unparsing.flag(ifExists), name(), Unparsing.flag(cascade));
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    super.unparse(writer, leftPrec, rightPrec);
    if (cascade) {
      writer.keyword("CASCADE");
    }
  }
}
