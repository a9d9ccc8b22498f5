package io.dlsql.parser;

import java.util.List;
import java.util.Optional;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/** A column of {@code CREATE TABLE t (name type [NOT NULL], ...)}: name, type, nullability. */
public final class SqlColumnDeclaration extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "COLUMN_DECL",
          SqlKind.COLUMN_DECL,
          (pos, operands) ->
              new SqlColumnDeclaration(
                  pos,
                  (SqlIdentifier) operands.get(0),
                  (SqlDataTypeSpec) operands.get(1),
                  Unparsing.flag(operands.get(2))));

  private final SqlIdentifier name;
  private final SqlDataTypeSpec dataType;
  private final boolean nullable;

  public SqlColumnDeclaration(
      SqlParserPos pos, SqlIdentifier name, SqlDataTypeSpec dataType, boolean nullable) {
    super(pos);
    this.name = name;
    this.dataType = dataType;
    this.nullable = nullable;
  }

  /** The column name (as cased by the parser's configuration). */
  public String name() {
    return name.getSimple();
  }

  public SqlIdentifier nameIdentifier() {
    return name;
  }

  public SqlDataTypeSpec dataType() {
    return dataType;
  }

  /** False when declared NOT NULL. */
  public boolean nullable() {
    return nullable;
  }

  /** The tensor shape and element type when the column is a {@code TENSOR(...)} column. */
  public Optional<SqlTensorTypeNameSpec> tensorType() {
    return dataType.getTypeNameSpec() instanceof SqlTensorTypeNameSpec tensor
        ? Optional.of(tensor)
        : Optional.empty();
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(name, dataType, Unparsing.flag(nullable));
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    name.unparse(writer, 0, 0);
    dataType.unparse(writer, 0, 0);
    if (!nullable) {
      writer.keyword("NOT NULL");
    }
  }
}
