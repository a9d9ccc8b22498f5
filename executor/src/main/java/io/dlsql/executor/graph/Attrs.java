package io.dlsql.executor.graph;

import io.dlsql.catalog.UserException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads and checks one node's attributes. Values arrive the way SQL literals and JSON produce
 * them (Integer, Long, BigDecimal, Double, String, Boolean, lists); every problem becomes a
 * {@link UserException} that starts with where the layer is ({@code layer 3 (CONV2D)}) and names
 * the option the way the user wrote it (upper case).
 */
final class Attrs {
  private final String where;
  private final Map<String, Object> attrs;

  Attrs(String where, Map<String, Object> attrs, Set<String> known) {
    this.where = where;
    this.attrs = attrs;
    for (String key : attrs.keySet()) {
      if (!known.contains(key)) {
        throw new UserException(
            where + ": unknown option " + upper(key) + (known.isEmpty()
                ? "; this layer takes no options"
                : "; known options: " + String.join(", ", new TreeSet<>(known.stream().map(Attrs::upper).toList()))));
      }
    }
  }

  static String upper(String key) {
    return key.toUpperCase(Locale.ROOT);
  }

  UserException error(String message) {
    return new UserException(where + ": " + message);
  }

  boolean has(String key) {
    return attrs.containsKey(key) && attrs.get(key) != null;
  }

  Object raw(String key) {
    return attrs.get(key);
  }

  private Object required(String key) {
    if (!has(key)) {
      throw error("missing required option " + upper(key));
    }
    return attrs.get(key);
  }

  static Integer asInt(Object v) {
    if (v instanceof Integer i) {
      return i;
    }
    if (v instanceof Long || v instanceof Short || v instanceof Byte) {
      long l = ((Number) v).longValue();
      return l == (int) l ? (int) l : null;
    }
    if (v instanceof BigDecimal d) {
      try {
        return d.intValueExact();
      } catch (ArithmeticException e) {
        return null;
      }
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      return d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE ? (int) d : null;
    }
    return null;
  }

  /** An integer option that must be at least {@code min}. */
  int intAtLeast(String key, int min, Integer dflt) {
    if (!has(key)) {
      if (dflt == null) {
        required(key);
      }
      return dflt;
    }
    Object v = attrs.get(key);
    Integer i = asInt(v);
    if (i == null) {
      throw error(upper(key) + " must be an integer, got " + describe(v));
    }
    if (i < min) {
      throw error(upper(key) + " must be at least " + min + ", got " + i);
    }
    return i;
  }

  /** An option that is one integer (used for both axes) or a pair (height, width), each at least {@code min}. */
  int[] pair(String key, int min, int[] dflt) {
    if (!has(key)) {
      if (dflt == null) {
        required(key);
      }
      return dflt.clone();
    }
    Object v = attrs.get(key);
    Integer single = asInt(v);
    int[] out;
    if (single != null) {
      out = new int[] {single, single};
    } else if (v instanceof List<?> list && list.size() == 2 && asInt(list.get(0)) != null
        && asInt(list.get(1)) != null) {
      out = new int[] {asInt(list.get(0)), asInt(list.get(1))};
    } else {
      throw error(upper(key) + " must be an integer or a pair (height, width) of integers, got " + describe(v));
    }
    for (int x : out) {
      if (x < min) {
        throw error(upper(key) + " must be at least " + min + ", got " + describe(v));
      }
    }
    return out;
  }

  /** A number option within {@code [min, max]} (or {@code [min, max)} when {@code maxExclusive}). */
  double number(String key, double min, double max, boolean maxExclusive, double dflt) {
    if (!has(key)) {
      return dflt;
    }
    Object v = attrs.get(key);
    if (!(v instanceof Number n)) {
      throw error(upper(key) + " must be a number, got " + describe(v));
    }
    double d = n.doubleValue();
    if (!(d >= min) || d > max || (maxExclusive && d == max)) {
      throw error(upper(key) + " must be in [" + fmt(min) + ", " + fmt(max) + (maxExclusive ? ")" : "]")
          + ", got " + n);
    }
    return d;
  }

  boolean bool(String key, boolean dflt) {
    if (!has(key)) {
      return dflt;
    }
    Object v = attrs.get(key);
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(s);
    }
    throw error(upper(key) + " must be TRUE or FALSE, got " + describe(v));
  }

  static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  static String describe(Object v) {
    if (v instanceof String s) {
      return "'" + s + "'";
    }
    if (v instanceof List<?> l) {
      return "(" + String.join(", ", l.stream().map(Attrs::describe).toList()) + ")";
    }
    return String.valueOf(v);
  }

  /** A shape as the user reads it: {@code (16, 28, 28)}. */
  static String shape(int[] s) {
    StringBuilder b = new StringBuilder("(");
    for (int i = 0; i < s.length; i++) {
      b.append(i == 0 ? "" : ", ").append(s[i]);
    }
    return b.append(")").toString();
  }
}
