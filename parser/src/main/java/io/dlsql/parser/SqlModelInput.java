package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * A model input, {@code INPUT image TENSOR(1, 28, 28)}: the column the model reads and the
 * tensor shape it expects there.
 */
public final class SqlModelInput extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "INPUT",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlModelInput(
                  pos,
                  (SqlIdentifier) operands.get(0),
                  (SqlTensorTypeNameSpec) ((SqlDataTypeSpec) operands.get(1)).getTypeNameSpec()));

  private final SqlIdentifier name;
  private final SqlDataTypeSpec type;

  public SqlModelInput(SqlParserPos pos, SqlIdentifier name, SqlTensorTypeNameSpec tensorType) {
    super(pos);
    this.name = name;
    this.type = new SqlDataTypeSpec(tensorType, tensorType.getParserPos());
  }

  /** The input column's name. */
  public String name() {
    return name.getSimple();
  }

  public SqlIdentifier nameIdentifier() {
    return name;
  }

  public SqlTensorTypeNameSpec tensorType() {
    return (SqlTensorTypeNameSpec) type.getTypeNameSpec();
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(name, type);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("INPUT");
    name.unparse(writer, 0, 0);
    type.unparse(writer, 0, 0);
  }
}
