package io.dlsql.parser;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;

/**
 * The arguments of a layer, architecture or compression method, split into positional values
 * (in written order) and named ones (by lower-case name, in written order), with Java values
 * ready for the engine and the nodes kept for error positions.
 */
public record Arguments(List<SqlNode> positionalNodes, List<SqlNamedArgument> namedArguments) {
  /** No arguments, as for {@code RELU} or {@code FLATTEN}. */
  public static final Arguments NONE = new Arguments(List.of(), List.of());

  public Arguments {
    positionalNodes = List.copyOf(positionalNodes);
    namedArguments = List.copyOf(namedArguments);
  }

  /** Splits a parsed argument list; named arguments are {@link SqlNamedArgument} nodes. */
  public static Arguments of(SqlNodeList args) {
    List<SqlNode> positional = new ArrayList<>();
    List<SqlNamedArgument> named = new ArrayList<>();
    for (SqlNode arg : args) {
      if (arg instanceof SqlNamedArgument namedArgument) {
        named.add(namedArgument);
      } else {
        positional.add(arg);
      }
    }
    return new Arguments(positional, named);
  }

  /** Positional values as Java values ({@link SqlValues#toJava}). */
  public List<Object> positional() {
    List<Object> values = new ArrayList<>(positionalNodes.size());
    for (SqlNode node : positionalNodes) {
      values.add(SqlValues.toJava(node));
    }
    return Collections.unmodifiableList(values);
  }

  /** Named values by lower-case name, in written order. */
  public Map<String, Object> named() {
    Map<String, Object> values = new LinkedHashMap<>();
    for (SqlNamedArgument argument : namedArguments) {
      values.put(argument.name(), argument.value());
    }
    return Collections.unmodifiableMap(values);
  }

  /** The named argument called {@code name} (any case), if given. */
  public Optional<SqlNamedArgument> namedArgument(String name) {
    String key = Unparsing.lower(name);
    return namedArguments.stream().filter(a -> a.name().equals(key)).findFirst();
  }

  public boolean isEmpty() {
    return positionalNodes.isEmpty() && namedArguments.isEmpty();
  }
}
