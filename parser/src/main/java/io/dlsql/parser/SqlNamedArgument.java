package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * A named argument of a layer, architecture or compression method: {@code KERNEL 5}, {@code
 * depth => 20} or {@code stride = 2}. The name is any word, keywords included (METHOD, SCOPE),
 * and is kept in lower case; the value is a literal, identifier, tuple or TENSOR type.
 */
public final class SqlNamedArgument extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "NAMED ARGUMENT",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlNamedArgument(pos, (SqlIdentifier) operands.get(0), operands.get(1)));

  private final SqlIdentifier name;
  private final SqlNode value;

  /** {@code name} is stored lower-cased: argument names are keywords, not identifiers. */
  public SqlNamedArgument(SqlParserPos pos, SqlIdentifier name, SqlNode value) {
    super(pos);
    this.name = new SqlIdentifier(Unparsing.lower(name.getSimple()), name.getParserPosition());
    this.value = value;
  }

  /** The name in lower case, e.g. {@code kernel}. */
  public String name() {
    return name.getSimple();
  }

  /** Where the name was written, for error messages. */
  public SqlParserPos namePosition() {
    return name.getParserPosition();
  }

  /** The value as a Java value; see {@link SqlValues#toJava}. */
  public Object value() {
    return SqlValues.toJava(value);
  }

  public SqlNode valueNode() {
    return value;
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(name, value);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    Unparsing.word(writer, name.getSimple());
    Unparsing.value(writer, value);
  }
}
