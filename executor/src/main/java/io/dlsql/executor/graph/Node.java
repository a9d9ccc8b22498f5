package io.dlsql.executor.graph;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One layer of a {@link NetworkSpec}: its unique name (also the prefix of its parameter names,
 * {@code <name>.weight}), its operator, its attributes (keys such as {@code out_channels}, {@code
 * kernel}, {@code stride}; values are numbers, strings, booleans or lists of numbers) and the
 * names of the nodes (or the network input) it reads.
 */
public record Node(String name, Op op, Map<String, Object> attrs, List<String> inputs) {
  public Node {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(op, "op");
    attrs = Collections.unmodifiableMap(new LinkedHashMap<>(attrs == null ? Map.of() : attrs));
    inputs = List.copyOf(inputs);
  }

  /** A node with a single input. */
  public static Node of(String name, Op op, Map<String, Object> attrs, String input) {
    return new Node(name, op, attrs, List.of(input));
  }
}
