package io.dlsql.shell;

import java.util.Locale;
import java.util.Set;

/**
 * What the shell needs to know about a statement before the server sees it, read from its
 * leading keyword: whether it changes the names completion offers, and whether its update
 * count is a number of rows.
 */
enum StatementKind {
  /** CREATE, DROP, ALTER, COMPRESS: tables or models may have appeared or gone. */
  SCHEMA_CHANGE,
  /** INSERT, UPDATE, DELETE, MERGE, UPSERT: the update count counts rows. */
  ROW_CHANGE,
  /** Everything else. */
  OTHER;

  private static final Set<String> SCHEMA_CHANGING = Set.of("CREATE", "DROP", "ALTER", "COMPRESS");
  private static final Set<String> ROW_CHANGING =
      Set.of("INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT");

  static StatementKind of(String sql) {
    String keyword = leadingKeyword(sql);
    if (SCHEMA_CHANGING.contains(keyword)) {
      return SCHEMA_CHANGE;
    }
    return ROW_CHANGING.contains(keyword) ? ROW_CHANGE : OTHER;
  }

  /** The first word of the statement in upper case, skipping parentheses and comments. */
  static String leadingKeyword(String sql) {
    int i = 0;
    int length = sql.length();
    while (i < length) {
      char c = sql.charAt(i);
      if (Character.isWhitespace(c) || c == '(') {
        i++;
      } else if (sql.startsWith("--", i)) {
        int end = sql.indexOf('\n', i);
        i = end < 0 ? length : end + 1;
      } else if (sql.startsWith("/*", i)) {
        int end = sql.indexOf("*/", i + 2);
        i = end < 0 ? length : end + 2;
      } else {
        break;
      }
    }
    int start = i;
    while (i < length && Character.isLetter(sql.charAt(i))) {
      i++;
    }
    return sql.substring(start, i).toUpperCase(Locale.ROOT);
  }
}
