package io.dlsql.parser;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * One layer in {@code CREATE MODEL m (...)}: {@code kind [(args)] [AS alias]}, for example
 * {@code CONV2D(64, KERNEL 5, PADDING 'same') AS c2} or {@code ADD(c2)}. The grammar accepts any
 * kind name; the engine decides which kinds exist and what their arguments mean.
 */
public final class SqlLayer extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "LAYER",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlLayer(
                  pos,
                  (SqlIdentifier) operands.get(0),
                  (SqlNodeList) operands.get(1),
                  (SqlIdentifier) operands.get(2)));

  private final SqlIdentifier kind;
  private final SqlNodeList args;
  private final SqlIdentifier alias;

  /** {@code args} is null when no parentheses were written; {@code alias} may be null. */
  public SqlLayer(SqlParserPos pos, SqlIdentifier kind, SqlNodeList args, SqlIdentifier alias) {
    super(pos);
    this.kind = kind;
    this.args = args;
    this.alias = alias;
  }

  /** The layer kind in upper case, e.g. {@code CONV2D}. */
  public String kind() {
    return Unparsing.upper(kind.getSimple());
  }

  /** Where the kind was written, for "unknown layer" errors. */
  public SqlIdentifier kindIdentifier() {
    return kind;
  }

  public Arguments arguments() {
    return args == null ? Arguments.NONE : Arguments.of(args);
  }

  /** Positional argument values ({@link SqlValues#toJava}). */
  public List<Object> positional() {
    return arguments().positional();
  }

  /** Named argument values by lower-case name. */
  public Map<String, Object> named() {
    return arguments().named();
  }

  /** The name other layers use to refer to this one's output, e.g. {@code ADD(c2)}. */
  public Optional<SqlIdentifier> alias() {
    return Optional.ofNullable(alias);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(kind, args, alias);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    Unparsing.word(writer, kind.getSimple());
    if (args != null) {
      Unparsing.arguments(writer, args);
    }
    if (alias != null) {
      writer.keyword("AS");
      alias.unparse(writer, 0, 0);
    }
  }
}
