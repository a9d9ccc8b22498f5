package io.dlsql.parser;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * One {@code key = value} of a {@code WITH (...)} clause (TRAIN, EVALUATE, COMPRESS, ANALYZE).
 * The key is any word, kept in lower case, with its position for "unknown option" errors; the
 * value is a number, string or boolean literal.
 */
public final class SqlOption extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "OPTION",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlOption(pos, (SqlIdentifier) operands.get(0), (SqlLiteral) operands.get(1)));

  private final SqlIdentifier key;
  private final SqlLiteral value;

  /** {@code key} is stored lower-cased: option names are keywords, not identifiers. */
  public SqlOption(SqlParserPos pos, SqlIdentifier key, SqlLiteral value) {
    super(pos);
    this.key = new SqlIdentifier(Unparsing.lower(key.getSimple()), key.getParserPosition());
    this.value = value;
  }

  /** The option name in lower case, e.g. {@code batch_size}. */
  public String key() {
    return key.getSimple();
  }

  public SqlParserPos keyPosition() {
    return key.getParserPosition();
  }

  /** The value: Integer/Long/BigDecimal/Double, String or Boolean ({@link SqlValues#toJava}). */
  public Object value() {
    return SqlValues.toJava(value);
  }

  public SqlLiteral literal() {
    return value;
  }

  /** The options of a WITH list by lower-case key, in written order (keys are unique). */
  public static Map<String, Object> toMap(SqlNodeList options) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (SqlOption option : list(options)) {
      map.put(option.key(), option.value());
    }
    return Collections.unmodifiableMap(map);
  }

  /** The options of a WITH list as nodes, for their positions. */
  public static List<SqlOption> list(SqlNodeList options) {
    return options.stream().map(SqlOption.class::cast).toList();
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(key, value);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    Unparsing.word(writer, key.getSimple());
    writer.keyword("=");
    value.unparse(writer, 0, 0);
  }
}
