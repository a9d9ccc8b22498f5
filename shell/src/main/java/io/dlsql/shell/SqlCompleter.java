package io.dlsql.shell;

import java.sql.Connection;
import java.util.List;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

/**
 * JLine's view of {@link SqlCompletions}: turns suggestions into candidates and holds the
 * current {@link SchemaNames}, reloaded by {@link #refresh()} after statements that change them.
 */
final class SqlCompleter implements Completer {
  private final Connection connection;
  private volatile SqlCompletions completions = new SqlCompletions(SchemaNames.EMPTY);

  SqlCompleter(Connection connection) {
    this.connection = connection;
  }

  /** Reloads table, column and model names from the connection. */
  void refresh() {
    completions = new SqlCompletions(SchemaNames.load(connection));
  }

  @Override
  public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
    if (line instanceof SqlLineParser.SqlParsedLine parsed && parsed.cursorInLiteral()) {
      return;
    }
    List<String> words = line.words();
    List<String> before = words.subList(0, line.wordIndex());
    for (SqlCompletions.Suggestion suggestion : completions.suggest(before, line.word(), words)) {
      String value = suggestion.value();
      candidates.add(new Candidate(value, value, suggestion.group().heading, null, null, null, true));
    }
  }
}
