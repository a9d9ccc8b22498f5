package io.dlsql.parser;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.calcite.sql.SqlCharStringLiteral;
import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlNumericLiteral;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * Turns the values written in layer arguments and WITH options into plain Java values, so the
 * engine never inspects literal nodes.
 *
 * <ul>
 *   <li>integer literal ({@code 32}, {@code -1}): {@link Integer}, {@link Long} if it does not
 *       fit, {@link BigDecimal} beyond that;
 *   <li>decimal literal ({@code 0.05}): {@link BigDecimal}, exactly as written;
 *   <li>approximate literal ({@code 1e-3}): {@link Double};
 *   <li>string literal: {@link String}; {@code TRUE}/{@code FALSE}: {@link Boolean};
 *   <li>identifier ({@code c2}, {@code int8}): the {@link SqlIdentifier} itself (a reference
 *       the engine resolves, with its position for errors);
 *   <li>tuple {@code (3, 3)}: an unmodifiable {@code List<Object>} of converted items;
 *   <li>{@code TENSOR(...)}: the {@link SqlTensorTypeNameSpec}.
 * </ul>
 */
public final class SqlValues {
  private SqlValues() {}

  /** The Java value of a value node the dlsql grammar produced. */
  public static Object toJava(SqlNode node) {
    return switch (node) {
      case SqlNumericLiteral number -> number(number);
      case SqlCharStringLiteral string -> string.getValueAs(String.class);
      case SqlLiteral literal when literal.getTypeName() == SqlTypeName.BOOLEAN ->
          literal.booleanValue();
      case SqlIdentifier identifier -> identifier;
      case SqlNodeList tuple -> tuple(tuple);
      case SqlDataTypeSpec spec when spec.getTypeNameSpec() instanceof SqlTensorTypeNameSpec t -> t;
      default ->
          throw new IllegalStateException(
              "not a dlsql value node: " + node.getKind() + " " + node);
    };
  }

  private static Object number(SqlNumericLiteral literal) {
    BigDecimal value = literal.getValueAs(BigDecimal.class);
    if (!literal.isExact()) {
      return value.doubleValue();
    }
    if (!literal.isInteger()) {
      return value;
    }
    try {
      return value.intValueExact();
    } catch (ArithmeticException notAnInt) {
      // fall through: wider integer types
    }
    try {
      return value.longValueExact();
    } catch (ArithmeticException notALong) {
      return value;
    }
  }

  private static List<Object> tuple(SqlNodeList tuple) {
    List<Object> values = new ArrayList<>(tuple.size());
    for (SqlNode item : tuple) {
      values.add(toJava(item));
    }
    return Collections.unmodifiableList(values);
  }
}
