package io.dlsql.jdbc;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.TensorType;
import io.dlsql.catalog.UserException;
import io.dlsql.parser.DlsqlParser;
import io.dlsql.parser.SqlAnalyzeModel;
import io.dlsql.parser.SqlCompressModel;
import io.dlsql.parser.SqlCreateModel;
import io.dlsql.parser.SqlCreateTable;
import io.dlsql.parser.SqlDescribeModel;
import io.dlsql.parser.SqlDropModel;
import io.dlsql.parser.SqlDropTable;
import io.dlsql.parser.SqlEvaluateModel;
import io.dlsql.parser.SqlExplainModel;
import io.dlsql.parser.SqlShowModels;
import io.dlsql.parser.SqlShowTables;
import io.dlsql.parser.SqlTrainModel;
import io.dlsql.executor.train.TrainingCancelledException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.calcite.jdbc.CalciteConnection;
import org.apache.calcite.schema.SchemaPlus;
import org.apache.calcite.sql.SqlDescribeTable;
import org.apache.calcite.sql.SqlInsert;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSetOption;
import org.apache.calcite.sql.dialect.CalciteSqlDialect;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * One connection's statement dispatcher: parses each statement with dlsql's grammar, runs dlsql
 * statements in the engine (tables, models, training, evaluation) and hands standard SQL to
 * Calcite after materializing the table expressions Calcite cannot run itself (PREDICT,
 * read_idx, read_csv).
 */
final class Session {
  /** SQLSTATE for a user error in the statement (syntax or access rule violation). */
  static final String SQLSTATE_USER_ERROR = "42000";
  private static final String SQLSTATE_SYNTAX_ERROR = "42601";
  private static final String SQLSTATE_CANCELLED = "57014";

  /** What a statement produced. */
  sealed interface Outcome {
    /** Rows computed by the engine. */
    record Rows(ResultRows rows) implements Outcome {}

    /** A change with its row count (0 for DDL). */
    record Update(long count) implements Outcome {}

    /** Standard SQL for Calcite, with the temporary tables it reads. */
    record Query(String sql, List<String> temporaries) implements Outcome {}
  }

  /** What SET accepts: the planner's switches. */
  static final List<String> SETTINGS = List.of(
      io.dlsql.planner.PlannerSettings.PLANNER, io.dlsql.planner.PlannerSettings.CONV_ALGORITHM,
      io.dlsql.planner.PlannerSettings.LAYOUT, io.dlsql.planner.PlannerSettings.FUSION,
      io.dlsql.planner.PlannerSettings.CHECKPOINTING, io.dlsql.planner.PlannerSettings.THREADS,
      io.dlsql.planner.PlannerSettings.PRECISION, io.dlsql.planner.PlannerSettings.CONVERSION_MARGIN);

  private final Engine engine;
  private final Connection calcite;
  private final SchemaPlus temporarySchema;
  private final AtomicLong temporaryCounter = new AtomicLong();
  private final Map<String, Map<String, TensorType>> temporaryTensorColumns = new ConcurrentHashMap<>();
  private final Map<String, String> settings = new HashMap<>();
  private final ModelStatements models;
  private final TableStatements tables;

  Session(Engine engine, Connection calcite) throws SQLException {
    this.engine = engine;
    this.calcite = calcite;
    this.temporarySchema = calcite.unwrap(CalciteConnection.class).getRootSchema().getSubSchema(Engine.TEMPORARY_SCHEMA);
    this.models = new ModelStatements(this);
    this.tables = new TableStatements(this);
  }

  Engine engine() {
    return engine;
  }

  Catalog catalog() {
    return engine.catalog();
  }

  Map<String, String> settings() {
    return settings;
  }

  /** Runs one statement; user mistakes become SQLExceptions with the engine's message. */
  Outcome execute(String sql, Execution execution) throws SQLException {
    engine.started(execution);
    try {
      SqlNode node = parse(sql);
      return dispatch(node, sql, execution);
    } catch (Execution.StatementCancelledException | TrainingCancelledException e) {
      throw new SQLException(e.getMessage(), SQLSTATE_CANCELLED, e);
    } catch (UserException e) {
      throw new SQLException(e.getMessage(), SQLSTATE_USER_ERROR, e);
    } finally {
      engine.finished(execution);
    }
  }

  static SqlNode parse(String sql) throws SQLException {
    // Leading blank lines stay, so that error positions are those of the text the user sent.
    String text = withoutTerminator(sql);
    if (text.isBlank()) {
      throw new SQLException("empty statement", SQLSTATE_SYNTAX_ERROR);
    }
    try {
      return DlsqlParser.parse(text);
    } catch (SqlParseException e) {
      throw new SQLException(syntaxMessage(e, text), SQLSTATE_SYNTAX_ERROR, e);
    }
  }

  /** A statement may end with semicolons; the grammar parses one statement without them. */
  static String stripTerminator(String sql) {
    return withoutTerminator(sql).strip();
  }

  /** {@code sql} without its trailing semicolons and blanks; what precedes the statement stays. */
  private static String withoutTerminator(String sql) {
    String text = sql.stripTrailing();
    while (text.endsWith(";")) {
      text = text.substring(0, text.length() - 1).stripTrailing();
    }
    return text;
  }

  /** Calcite's message with the list of expected tokens trimmed: the position is what helps. */
  static String syntaxMessage(SqlParseException e, String sql) {
    String message = e.getMessage() == null ? "syntax error" : e.getMessage();
    int expecting = message.indexOf("Was expecting");
    String head = (expecting > 0 ? message.substring(0, expecting) : message).strip();
    var pos = e.getPos();
    if (pos == null) {
      return "Syntax error: " + head.replaceAll("\\s+", " ");
    }
    String at = "line " + pos.getLineNum() + ", column " + pos.getColumnNum();
    head = head.replace(" at " + at + ".", "").replace(" at " + at, "");
    String word = leadingWord(sql, pos);
    if (word != null && head.startsWith(NON_QUERY) && word.equalsIgnoreCase("PREDICT")) {
      return "Syntax error at " + at + ": PREDICT is a table function; write SELECT * FROM"
          + " PREDICT(MODEL m, TABLE t)";
    }
    if (word != null && head.startsWith(NON_QUERY)) {
      // Calcite reads an unknown first word as an expression and complains about the
      // expression's context; what the user typed wrong is the statement keyword.
      return "Syntax error at " + at + ": '" + word + "' does not start a statement; a statement"
          + " starts with " + STATEMENT_KEYWORDS;
    }
    return "Syntax error at " + at + ": " + head.replaceAll("\\s+", " ");
  }

  /** Calcite's message for an expression where a statement was expected. */
  private static final String NON_QUERY = "Non-query expression encountered in illegal context";

  /** The words a statement can start with, for the message about an unknown first word. */
  private static final String STATEMENT_KEYWORDS = "SELECT, VALUES, WITH, INSERT, CREATE, DROP,"
      + " SHOW, DESCRIBE, SET, EXPLAIN, TRAIN, EVALUATE, COMPRESS or ANALYZE";

  /**
   * The word at {@code pos} when it is the first word of the statement (a bare identifier that
   * Calcite took for an expression), else null.
   */
  private static String leadingWord(String sql, SqlParserPos pos) {
    int i = 0;
    int line = 1;
    int column = 1;
    while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
      if (sql.charAt(i) == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
      i++;
    }
    if (line != pos.getLineNum() || column != pos.getColumnNum()) {
      return null;
    }
    int end = i;
    while (end < sql.length() && (Character.isLetterOrDigit(sql.charAt(end)) || sql.charAt(end) == '_')) {
      end++;
    }
    return end > i && Character.isLetter(sql.charAt(i)) ? sql.substring(i, end) : null;
  }

  private Outcome dispatch(SqlNode node, String sql, Execution execution) throws SQLException {
    return switch (node) {
      case SqlCreateTable n -> tables.create(n, execution);
      case SqlDropTable n -> tables.drop(n);
      case SqlInsert n -> tables.insert(n, execution);
      case SqlShowTables n -> new Outcome.Rows(tables.show());
      case SqlDescribeTable n -> new Outcome.Rows(describe(n));
      case SqlCreateModel n -> models.create(n, stripTerminator(sql));
      case SqlDropModel n -> models.drop(n);
      case SqlShowModels n -> new Outcome.Rows(models.show());
      case SqlDescribeModel n -> new Outcome.Rows(models.describe(n));
      case SqlTrainModel n -> {
        // A quantized variant has no fp32 weights to train; say so before any data is loaded.
        catalog().model(ModelStatements.modelName(n.model())).ifPresent(ModelVariants::checkTrainable);
        yield new Outcome.Rows(new Training(this).train(n, stripTerminator(sql), execution));
      }
      case SqlCompressModel n -> new Outcome.Rows(new Compression(this).compress(n, stripTerminator(sql), execution));
      case SqlEvaluateModel n -> new Outcome.Rows(new Inference(this).evaluate(n, execution));
      case SqlExplainModel n -> new Outcome.Rows(new Planning(this).explain(n, execution));
      case SqlAnalyzeModel n -> new Outcome.Rows(new Planning(this).analyze(n, execution));
      case SqlSetOption n -> set(n);
      default -> {
        if (node.getKind().belongsTo(SqlKind.QUERY) || node.getKind() == SqlKind.EXPLAIN) {
          TableExpressions.Rewritten rewritten = new TableExpressions(this, execution).rewrite(node);
          // Untouched SQL goes to Calcite as written, so its error positions are the user's.
          String text = rewritten.temporaries().isEmpty() ? stripTerminator(sql) : unparse(rewritten.node());
          yield new Outcome.Query(text, rewritten.temporaries());
        }
        throw new UserException(
            node.getKind().lowerName.replace('_', ' ').toUpperCase(Locale.ROOT) + " statements are not supported");
      }
    };
  }

  private Outcome set(SqlSetOption option) {
    String name = option.getName().toString().toLowerCase(Locale.ROOT);
    if (!SETTINGS.contains(name)) {
      throw new UserException("unknown setting '" + name + "'; settings are " + String.join(", ", SETTINGS));
    }
    if (option.getValue() == null) {
      settings.remove(name);
    } else {
      settings.put(name, String.valueOf(io.dlsql.parser.SqlValues.toJava(option.getValue())));
    }
    return new Outcome.Update(0);
  }

  /** SQL text for Calcite from a (rewritten) tree: double-quoted identifiers keep their case. */
  /** DESCRIBE name: the table of that name, else the model, as DESCRIBE MODEL would show it. */
  private ResultRows describe(SqlDescribeTable describe) throws SQLException {
    String name = TableStatements.simpleName(describe.getTable());
    if (catalog().table(name).isEmpty() && catalog().model(name).isPresent()) {
      return models.describe(new SqlDescribeModel(describe.getParserPosition(), describe.getTable()));
    }
    return tables.describe(describe);
  }

  static String unparse(SqlNode node) {
    return node.toSqlString(CalciteSqlDialect.DEFAULT).getSql();
  }

  // ---- temporary tables: statement results and materialized table expressions ----

  /** Registers rows as a temporary table of this connection and returns its name. */
  String registerTemporary(ResultRows rows) {
    return registerTemporary(rows, Map.of());
  }

  String registerTemporary(ResultRows rows, Map<String, TensorType> tensorColumns) {
    String name = "$" + temporaryCounter.incrementAndGet();
    temporarySchema.add(name, new RowsTable(rows));
    if (!tensorColumns.isEmpty()) {
      temporaryTensorColumns.put(name, Map.copyOf(tensorColumns));
    }
    return name;
  }

  void dropTemporary(String name) {
    temporarySchema.removeTable(name);
    temporaryTensorColumns.remove(name);
  }

  static String selectAllFrom(String temporary) {
    return "SELECT * FROM \"" + Engine.TEMPORARY_SCHEMA + "\".\"" + temporary + "\"";
  }

  // ---- running queries for the engine's own use (CTAS, INSERT, TRAIN, PREDICT inputs) ----

  /** An open query result with its column types, tensor shapes resolved from column origins. */
  final class QueryRun implements AutoCloseable {
    private final Statement statement;
    private final ResultSet resultSet;
    private final List<String> temporaries;
    private final List<String> columnNames = new ArrayList<>();
    private final List<TensorType> tensorTypes = new ArrayList<>();

    QueryRun(Statement statement, ResultSet resultSet, List<String> temporaries) throws SQLException {
      this.statement = statement;
      this.resultSet = resultSet;
      this.temporaries = temporaries;
      ResultSetMetaData md = resultSet.getMetaData();
      for (int c = 1; c <= md.getColumnCount(); c++) {
        columnNames.add(md.getColumnLabel(c).toLowerCase(Locale.ROOT));
        tensorTypes.add(originTensorType(md.getSchemaName(c), md.getTableName(c), md.getColumnName(c)));
      }
    }

    ResultSet resultSet() {
      return resultSet;
    }

    List<String> columnNames() {
      return columnNames;
    }

    /** The tensor type of result column {@code index} (0-based) if it comes from a tensor column. */
    TensorType tensorType(int index) {
      return tensorTypes.get(index);
    }

    /** The 0-based index of a column by name, or -1. */
    int indexOf(String name) {
      return columnNames.indexOf(name.toLowerCase(Locale.ROOT));
    }

    @Override
    public void close() throws SQLException {
      try {
        resultSet.close();
        statement.close();
      } finally {
        temporaries.forEach(Session.this::dropTemporary);
      }
    }
  }

  private TensorType originTensorType(String schema, String table, String column) {
    if (table == null || table.isEmpty() || column == null || column.isEmpty()) {
      return null;
    }
    if (Engine.TEMPORARY_SCHEMA.equals(schema)) {
      Map<String, TensorType> columns = temporaryTensorColumns.get(table);
      return columns == null ? null : columns.get(column);
    }
    return catalog().table(table)
        .flatMap(t -> t.column(column))
        .map(c -> c.type() instanceof TensorType t ? t : null)
        .orElse(null);
  }

  /** Runs a query (which may contain PREDICT and file readers) and returns its open result. */
  QueryRun openQuery(SqlNode query, Execution execution) throws SQLException {
    TableExpressions.Rewritten rewritten = new TableExpressions(this, execution).rewrite(query);
    Statement statement = calcite.createStatement();
    try {
      ResultSet rs = statement.executeQuery(unparse(rewritten.node()));
      return new QueryRun(statement, rs, rewritten.temporaries());
    } catch (SQLException e) {
      statement.close();
      rewritten.temporaries().forEach(this::dropTemporary);
      throw DlsqlStatement.calciteError(e);
    } catch (RuntimeException e) {
      statement.close();
      rewritten.temporaries().forEach(this::dropTemporary);
      throw e;
    }
  }

  /**
   * The labelled (TRAIN, EVALUATE) input rows of {@code query} for {@code model}: bulk-copied from
   * the catalog when the query reads a table whole, else through Calcite row by row.
   */
  ModelInputs modelInputs(SqlNode query, io.dlsql.catalog.ModelInfo model, Execution execution, String statement)
      throws SQLException {
    String table = ModelInputs.plainTableScan(query, catalog(), List.of(model.inputName(), model.labelColumn()));
    if (table != null) {
      return ModelInputs.loadTable(catalog(), table, model, true, execution, statement);
    }
    try (QueryRun run = openQuery(query, execution)) {
      return ModelInputs.load(run, model, true, false, execution, statement);
    }
  }

  /** Prepares standard SQL through Calcite; dlsql statements cannot be prepared. */
  PreparedStatement prepare(String sql, DlsqlConnection connection) throws SQLException {
    SqlNode node = parse(sql);
    boolean standard = node.getKind().belongsTo(SqlKind.QUERY) || node.getKind() == SqlKind.EXPLAIN;
    if (!standard || TableExpressions.containsExtensions(node)) {
      throw new SQLException(
          "only standard queries can be prepared; run dlsql statements and queries with PREDICT or"
              + " file readers through Statement.execute",
          SQLSTATE_USER_ERROR);
    }
    return new DlsqlPreparedStatement(connection, calcite.prepareStatement(stripTerminator(sql)));
  }
}
