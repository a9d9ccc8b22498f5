package io.dlsql.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.jline.reader.Candidate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SqlCompletionsTest {
  private Connection connection;

  @BeforeEach
  void createSchema() throws Exception {
    connection = TestDatabase.withModels(TestDatabase.newUrl());
    try (Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE fashion_train (id INT, image VARBINARY(784), label INT)");
      statement.execute("CREATE TABLE fashion_test (id INT, image VARBINARY(784))");
      statement.execute("CREATE SCHEMA sys");
      statement.execute("CREATE TABLE sys.progress (statement_id BIGINT, epoch INT)");
      statement.execute("INSERT INTO models VALUES ('convnet', 9), ('r20', 20)");
    }
  }

  @AfterEach
  void close() throws Exception {
    try (Statement statement = connection.createStatement()) {
      statement.execute("SHUTDOWN");
    }
    connection.close();
  }

  /** Suggestions at the cursor, marked by '|' or at the end of the line. */
  private List<String> suggest(String text) {
    int cursor = text.indexOf('|') < 0 ? text.length() : text.indexOf('|');
    String line = text.replace("|", "");
    SqlLineParser.SqlParsedLine parsed = SqlLineParser.words(line, cursor);
    SqlCompletions completions = new SqlCompletions(SchemaNames.load(connection));
    return completions
        .suggest(parsed.words().subList(0, parsed.wordIndex()), parsed.word(), parsed.words())
        .stream()
        .map(SqlCompletions.Suggestion::value)
        .filter(v -> v.toLowerCase().startsWith(parsed.word().toLowerCase()))
        .toList();
  }

  @Test
  void loadsTablesColumnsAndModelsFromTheConnection() {
    SchemaNames names = SchemaNames.load(connection);
    assertTrue(names.tables().contains(new SchemaNames.TableName("PUBLIC", "FASHION_TRAIN")));
    assertTrue(names.tables().contains(new SchemaNames.TableName("SYS", "PROGRESS")));
    assertEquals(List.of("ID", "IMAGE", "LABEL"), names.columnsByTable().get("FASHION_TRAIN"));
    assertEquals(List.of("convnet", "r20"), names.models());
    assertFalse(names.tables().stream().anyMatch(t -> t.schema().equals("INFORMATION_SCHEMA")));
  }

  @Test
  void afterFromOnlyTablesAreOffered() {
    assertEquals(List.of("FASHION_TEST", "FASHION_TRAIN"), suggest("SELECT * FROM fash").stream().sorted().toList());
    List<String> all = suggest("SELECT * FROM ");
    assertTrue(all.contains("SYS.PROGRESS"), "tables outside the current schema come qualified");
    assertTrue(all.contains("TABLE"));
    assertFalse(all.contains("SELECT"));
  }

  @Test
  void keywordsIncludeDlsqlsAndFollowTheTypedCase() {
    assertEquals(List.of("TRAIN"), suggest("TRA"));
    assertEquals(List.of("predict"), suggest("select * from pre"));
    assertEquals(List.of("MODEL"), suggest("DESCRIBE "));
    assertEquals(List.of("MODELS"), suggest("SHOW MODE"));
    assertTrue(suggest("COMPR").contains("COMPRESS"));
  }

  @Test
  void modelNamesFollowModel() {
    assertEquals(List.of("convnet"), suggest("TRAIN MODEL con"));
    assertEquals(List.of("convnet", "r20"), suggest("EVALUATE MODEL "));
  }

  @Test
  void columnsOfTheMentionedTablesElseOfAllTables() {
    assertEquals(List.of("lateral", "LABEL", "LAYERS"), suggest("SELECT la"));
    assertEquals(List.of("lateral", "LABEL"), suggest("SELECT la| FROM fashion_train"));
    assertEquals(List.of("lateral"), suggest("SELECT la| FROM fashion_test"));
  }

  @Test
  void qualifiedNamesCompleteWithinTheirQualifier() {
    assertEquals(List.of("sys.PROGRESS"), suggest("SELECT * FROM sys.pro"));
    assertEquals(List.of("fashion_train.ID", "fashion_train.IMAGE"), suggest("SELECT fashion_train.i"));
  }

  @Test
  void describeCommandOffersTablesAndModels() {
    List<String> names = suggest("\\d ");
    assertTrue(names.contains("FASHION_TRAIN"));
    assertTrue(names.contains("convnet"));
    assertEquals(List.of("\\d", "\\help", "\\q", "\\timing"), suggest("\\"));
  }

  @Test
  void refreshPicksUpNewTables() throws Exception {
    SqlCompleter completer = new SqlCompleter(connection);
    completer.refresh();
    try (Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE mnist_train (id INT)");
    }
    assertFalse(candidates(completer, "SELECT * FROM mni").contains("MNIST_TRAIN"));
    completer.refresh();
    assertTrue(candidates(completer, "SELECT * FROM mni").contains("MNIST_TRAIN"));
  }

  @Test
  void noCandidatesInsideStrings() {
    SqlCompleter completer = new SqlCompleter(connection);
    completer.refresh();
    assertEquals(List.of(), candidates(completer, "SELECT 'fash"));
  }

  private static List<String> candidates(SqlCompleter completer, String line) {
    List<Candidate> candidates = new java.util.ArrayList<>();
    completer.complete(null, SqlLineParser.words(line, line.length()), candidates);
    return candidates.stream().map(Candidate::value).toList();
  }
}
