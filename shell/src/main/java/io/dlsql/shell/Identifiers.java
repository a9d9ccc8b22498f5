package io.dlsql.shell;

import java.util.ArrayList;
import java.util.List;

/** Splitting and quoting of SQL identifiers as the shell types and reads them. */
final class Identifiers {
  private static final char QUOTE = '"';
  private static final char SEPARATOR = '.';

  private Identifiers() {}

  /** Splits {@code a.b."c.d"} into its parts, removing quotes (and undoubling {@code ""}). */
  static List<String> splitQualified(String name) {
    List<String> parts = new ArrayList<>();
    StringBuilder part = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == QUOTE) {
        if (quoted && i + 1 < name.length() && name.charAt(i + 1) == QUOTE) {
          part.append(QUOTE);
          i++;
        } else {
          quoted = !quoted;
        }
      } else if (c == SEPARATOR && !quoted) {
        parts.add(part.toString());
        part.setLength(0);
      } else {
        part.append(c);
      }
    }
    parts.add(part.toString());
    return parts;
  }

  /** True for characters that may appear in an unquoted identifier. */
  static boolean isIdentifierChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_' || c == '$';
  }

  /** Returns the name as it must be typed: quoted when it holds other characters. */
  static String quoteIfNeeded(String name) {
    boolean plain = !name.isEmpty() && !Character.isDigit(name.charAt(0));
    for (int i = 0; plain && i < name.length(); i++) {
      plain = isIdentifierChar(name.charAt(i));
    }
    return plain ? name : QUOTE + name.replace("\"", "\"\"") + QUOTE;
  }
}
