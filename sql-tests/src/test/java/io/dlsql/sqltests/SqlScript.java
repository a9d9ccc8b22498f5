package io.dlsql.sqltests;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A parsed SQL test script: its header fields and its records in order. */
record SqlScript(String name, Set<String> requirements, List<Record> records) {
  /** What a record expects of its statement. */
  enum Kind {
    STATEMENT_OK,
    STATEMENT_ERROR,
    QUERY
  }

  /** One statement with its expectation; {@code line} is where the record starts in the file. */
  record Record(Kind kind, String sql, List<String> expected, boolean rowsort, int line) {}

  static SqlScript parse(String name, String text) {
    List<Record> records = new ArrayList<>();
    Set<String> requirements = new java.util.TreeSet<>();
    String[] lines = text.split("\r?\n", -1);
    int i = 0;
    while (i < lines.length) {
      String line = lines[i].strip();
      if (line.startsWith("# require:")) {
        requirements.add(line.substring("# require:".length()).strip());
        i++;
        continue;
      }
      if (line.isEmpty() || line.startsWith("#")) {
        i++;
        continue;
      }
      int start = i + 1;
      Kind kind;
      boolean rowsort = false;
      if (line.equals("statement ok")) {
        kind = Kind.STATEMENT_OK;
      } else if (line.equals("statement error")) {
        kind = Kind.STATEMENT_ERROR;
      } else if (line.startsWith("query")) {
        kind = Kind.QUERY;
        rowsort = line.contains("rowsort");
      } else {
        throw new IllegalArgumentException(name + ":" + start + ": expected 'statement ok', 'statement error' or 'query', got: " + line);
      }
      i++;
      StringBuilder sql = new StringBuilder();
      while (i < lines.length && !lines[i].isBlank() && !lines[i].strip().equals("----")) {
        sql.append(lines[i]).append('\n');
        i++;
      }
      List<String> expected = new ArrayList<>();
      if (i < lines.length && lines[i].strip().equals("----")) {
        i++;
        while (i < lines.length && !lines[i].isEmpty()) {
          expected.add(lines[i]);
          i++;
        }
      }
      if (sql.isEmpty()) {
        throw new IllegalArgumentException(name + ":" + start + ": record has no SQL");
      }
      records.add(new Record(kind, sql.toString().strip(), expected, rowsort, start));
    }
    return new SqlScript(name, requirements, records);
  }
}
