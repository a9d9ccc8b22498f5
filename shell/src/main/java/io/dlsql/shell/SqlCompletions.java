package io.dlsql.shell;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Chooses completion candidates for the word under the cursor from the words before it: table
 * names after FROM or JOIN, model names after MODEL, columns of the tables the statement names,
 * and keywords otherwise. Candidates are not filtered by the typed prefix; the line reader does
 * that (ignoring case).
 */
final class SqlCompletions {
  /** What kind of name a suggestion is, shown as a group heading in the completion menu. */
  enum Group {
    KEYWORD("keywords"),
    TABLE("tables"),
    COLUMN("columns"),
    MODEL("models"),
    COMMAND("commands");

    final String heading;

    Group(String heading) {
      this.heading = heading;
    }
  }

  /** One candidate: the text to insert and its group. */
  record Suggestion(String value, Group group) {}

  private static final Set<String> TABLE_POSITIONS = Set.of("FROM", "JOIN", "INTO", "TABLE", "UPDATE");
  private static final List<String> AFTER_FROM = List.of("LATERAL", "PREDICT", "TABLE", "UNNEST");
  private static final Set<String> MODEL_POSITIONS = Set.of("MODEL", "STUDENT");
  /** After these words only one keyword makes sense, so only those are offered. */
  private static final Map<String, List<String>> NEXT_KEYWORDS =
      Map.of(
          "SHOW", List.of("MODELS", "TABLES"),
          "DESCRIBE", List.of("MODEL"),
          "TRAIN", List.of("MODEL"),
          "EVALUATE", List.of("MODEL"),
          "COMPRESS", List.of("MODEL"),
          "ANALYZE", List.of("MODEL"));
  private static final String DESCRIBE_COMMAND = "\\d";
  private static final char COMMAND_PREFIX = '\\';
  private static final char QUALIFIER_SEPARATOR = '.';

  private final SchemaNames names;

  SqlCompletions(SchemaNames names) {
    this.names = names;
  }

  /**
   * Candidates for {@code word}, given the words before it in the buffer ({@code before}) and
   * all words of the buffer ({@code all}, to find the tables the statement mentions).
   */
  List<Suggestion> suggest(List<String> before, String word, List<String> all) {
    if (word.indexOf(COMMAND_PREFIX) == 0) {
      return SqlKeywords.COMMANDS.stream().map(c -> new Suggestion(c, Group.COMMAND)).toList();
    }
    String previous = before.isEmpty() ? "" : before.getLast().toUpperCase(Locale.ROOT);
    int dot = word.lastIndexOf(QUALIFIER_SEPARATOR);
    if (dot >= 0) {
      return qualified(word.substring(0, dot), all);
    }
    List<Suggestion> result = new ArrayList<>();
    if (before.size() == 1 && before.getFirst().equals(DESCRIBE_COMMAND)) {
      addTables(result);
      addAll(result, names.models(), Group.MODEL);
      return result;
    }
    if (TABLE_POSITIONS.contains(previous)) {
      addTables(result);
      if (!previous.equals("INTO") && !previous.equals("UPDATE")) {
        addAll(result, keywordsInCase(AFTER_FROM, word), Group.KEYWORD);
      }
      return result;
    }
    if (MODEL_POSITIONS.contains(previous)) {
      addAll(result, names.models(), Group.MODEL);
      return result;
    }
    List<String> next = NEXT_KEYWORDS.get(previous);
    if (next != null) {
      addAll(result, keywordsInCase(next, word), Group.KEYWORD);
      return result;
    }
    Set<String> keywords = new TreeSet<>(SqlKeywords.SQL);
    keywords.addAll(SqlKeywords.DLSQL);
    names.serverKeywords().forEach(k -> keywords.add(k.toUpperCase(Locale.ROOT)));
    addAll(result, keywordsInCase(keywords, word), Group.KEYWORD);
    addTables(result);
    addAll(result, columnsOf(mentionedTables(all)), Group.COLUMN);
    addAll(result, names.models(), Group.MODEL);
    return result;
  }

  /** {@code schema.} completes tables of that schema; {@code table.} or {@code alias.} columns. */
  private List<Suggestion> qualified(String qualifier, List<String> all) {
    List<Suggestion> result = new ArrayList<>();
    String unquoted = Identifiers.splitQualified(qualifier).getLast();
    for (SchemaNames.TableName table : names.tables()) {
      if (table.schema() != null && table.schema().equalsIgnoreCase(unquoted)) {
        result.add(new Suggestion(qualifier + QUALIFIER_SEPARATOR + Identifiers.quoteIfNeeded(table.name()), Group.TABLE));
      }
    }
    Collection<String> tables = names.columnsByTable().keySet().stream().filter(t -> t.equalsIgnoreCase(unquoted)).toList();
    if (tables.isEmpty()) {
      // An alias: its table is unknown without parsing, so offer the statement's columns.
      tables = mentionedTables(all);
    }
    for (String column : columnsOf(tables)) {
      result.add(new Suggestion(qualifier + QUALIFIER_SEPARATOR + column, Group.COLUMN));
    }
    return result;
  }

  private void addTables(List<Suggestion> result) {
    for (SchemaNames.TableName table : names.tables()) {
      String name = Identifiers.quoteIfNeeded(table.name());
      if (!names.inCurrentSchema(table)) {
        name = Identifiers.quoteIfNeeded(table.schema()) + QUALIFIER_SEPARATOR + name;
      }
      result.add(new Suggestion(name, Group.TABLE));
    }
  }

  /** Tables named anywhere in the buffer; all tables when it names none. */
  private Collection<String> mentionedTables(List<String> words) {
    Set<String> mentioned = new LinkedHashSet<>();
    for (String word : words) {
      String last = Identifiers.splitQualified(word).getLast();
      for (String table : names.columnsByTable().keySet()) {
        if (table.equalsIgnoreCase(last)) {
          mentioned.add(table);
        }
      }
    }
    return mentioned.isEmpty() ? names.columnsByTable().keySet() : mentioned;
  }

  private Collection<String> columnsOf(Collection<String> tables) {
    Set<String> columns = new TreeSet<>();
    for (String table : tables) {
      names.columnsByTable().getOrDefault(table, List.of()).forEach(c -> columns.add(Identifiers.quoteIfNeeded(c)));
    }
    return columns;
  }

  /** Keywords follow the case the user types in: lower case when the word is lower case. */
  private static List<String> keywordsInCase(Collection<String> keywords, String word) {
    boolean lower = !word.isEmpty() && word.equals(word.toLowerCase(Locale.ROOT)) && !word.equals(word.toUpperCase(Locale.ROOT));
    return keywords.stream().map(k -> lower ? k.toLowerCase(Locale.ROOT) : k).toList();
  }

  private static void addAll(List<Suggestion> result, Collection<String> values, Group group) {
    values.forEach(v -> result.add(new Suggestion(v, group)));
  }
}
