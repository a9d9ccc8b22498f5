package io.dlsql.parser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.schema.SchemaPlus;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.dialect.CalciteSqlDialect;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.sql.util.SqlShuttle;
import org.apache.calcite.tools.FrameworkConfig;
import org.apache.calcite.tools.Frameworks;
import org.apache.calcite.tools.Planner;
import org.apache.calcite.util.Litmus;
import org.junit.jupiter.api.Test;

/**
 * dlsql's statements through {@link DlsqlParser} (double quotes, names folded to lower case):
 * the typed accessors the engine uses, Java values of arguments and options, the node tree of
 * PREDICT in FROM, syntax errors with their positions, scripts, round trips and copies.
 */
class DlsqlStatementsTest {
  private static final String CONVNET =
      """
      CREATE MODEL convnet (
        INPUT image TENSOR(1, 28, 28),
        CONV2D(32, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),
        CONV2D(64, KERNEL 5, PADDING 'same') AS c2, RELU, ADD(c2), MAXPOOL(2, STRIDE 2),
        FLATTEN, DENSE(1024), RELU, DROPOUT(0.4), DENSE(10)
      ) OUTPUT label CLASSES 10""";

  /** One of every statement, for round trips and copies. */
  private static final List<String> ALL_STATEMENTS =
      List.of(
          "CREATE TABLE t (id INTEGER, image TENSOR(1, 28, 28) UINT8 NOT NULL, label INTEGER)",
          "CREATE OR REPLACE TABLE IF NOT EXISTS s.t AS SELECT * FROM u",
          "CREATE TABLE t (a INT, b TENSOR(4)) AS SELECT a, b FROM u",
          "DROP TABLE IF EXISTS t",
          CONVNET,
          "CREATE OR REPLACE MODEL IF NOT EXISTS m AS RESNET(depth => 20, width => 2)"
              + " INPUT image TENSOR(1, 28, 28) OUTPUT label CLASSES 10",
          "CREATE MODEL r20 AS RESNET(depth => 20, classes => 10, input => TENSOR(1, 28, 28))",
          "CREATE MODEL m (INPUT x TENSOR(2), CONV2D(8, KERNEL (3, 3), SHIFT -1.5, EPS 1e-5))",
          "DROP MODEL IF EXISTS m",
          "TRAIN MODEL m ON (SELECT image, label FROM t) WITH (epochs = 5, batch_size = 128,"
              + " optimizer = 'sgd', learning_rate = 0.05, augment = TRUE)",
          "TRAIN MODEL m ON some_table",
          "EVALUATE MODEL m ON TABLE t WITH (batch_size = 64)",
          "SELECT p.label, COUNT(*) FROM PREDICT(MODEL m, (SELECT id, image FROM t)) AS p"
              + " JOIN t ON p.id = t.id WHERE p.label > 1 GROUP BY p.label",
          "SELECT * FROM PREDICT(MODEL m, TABLE t) p (a, b)",
          "SHOW MODELS",
          "SHOW TABLES",
          "DESCRIBE MODEL m",
          "COMPRESS MODEL m INTO m2 USING QUANTIZE(int8) CALIBRATE ON (SELECT image FROM t"
              + " LIMIT 1000)",
          "COMPRESS MODEL m INTO m2 USING PRUNE(0.8, METHOD 'l1', SCOPE 'global')"
              + " FINETUNE ON (SELECT * FROM t) WITH (epochs = 1)",
          "COMPRESS MODEL m INTO m2 USING DISTILL(STUDENT small, TEMPERATURE 4) ON t",
          "ANALYZE MODEL m",
          "EXPLAIN TRAIN MODEL m ON t WITH (epochs = 1)",
          "EXPLAIN ANALYZE EVALUATE MODEL m ON (SELECT * FROM t)",
          "EXPLAIN PREDICT(MODEL m, (SELECT * FROM t))");

  @Test
  void createTableExposesColumnsAndTensorTypes() throws SqlParseException {
    SqlCreateTable create =
        parse(
            "CREATE TABLE Fashion (id INTEGER NOT NULL, Image TENSOR(1, 28, 28) UINT8,"
                + " label INTEGER)",
            SqlCreateTable.class);
    assertEquals("fashion", create.name().getSimple());
    assertFalse(create.replace());
    assertFalse(create.ifNotExists());
    assertTrue(create.query().isEmpty());
    List<SqlColumnDeclaration> columns = create.columns();
    assertEquals(List.of("id", "image", "label"), columns.stream().map(c -> c.name()).toList());
    assertFalse(columns.get(0).nullable());
    assertTrue(columns.get(1).nullable());
    assertEquals("INTEGER", columns.get(0).dataType().getTypeName().getSimple());
    assertTrue(columns.get(0).tensorType().isEmpty());
    SqlTensorTypeNameSpec image = columns.get(1).tensorType().orElseThrow();
    assertEquals(List.of(1, 28, 28), List.of(box(image.dims())));
    assertEquals(SqlTensorTypeNameSpec.ElementType.UINT8, image.elementType());
    assertEquals(784, image.elementCount());
    assertEquals(784, image.byteLength());

    SqlCreateTable ctas =
        parse("CREATE OR REPLACE TABLE IF NOT EXISTS t AS SELECT * FROM u", SqlCreateTable.class);
    assertTrue(ctas.replace());
    assertTrue(ctas.ifNotExists());
    assertTrue(ctas.columns().isEmpty());
    assertInstanceOf(SqlSelect.class, ctas.query().orElseThrow());
  }

  @Test
  void tensorElementTypeDefaultsToFloat() throws SqlParseException {
    SqlCreateTable create = parse("CREATE TABLE t (x TENSOR(3, 2))", SqlCreateTable.class);
    SqlTensorTypeNameSpec x = create.columns().get(0).tensorType().orElseThrow();
    assertEquals(SqlTensorTypeNameSpec.ElementType.FLOAT, x.elementType());
    assertEquals(6 * Float.BYTES, x.byteLength());
    assertEquals("TENSOR(3, 2) FLOAT", x.toString());
  }

  /** Calcite's validator sees a tensor as the VARBINARY that holds its bytes. */
  @Test
  void tensorTypeValidatesAsVarbinary() throws Exception {
    SchemaPlus root = Frameworks.createRootSchema(true);
    FrameworkConfig config =
        Frameworks.newConfigBuilder()
            .parserConfig(DlsqlParser.config())
            .defaultSchema(root)
            .build();
    Planner planner = Frameworks.getPlanner(config);
    SqlNode query = planner.parse("SELECT CAST(X'0102' AS TENSOR(2) UINT8) AS pixels");
    RelDataType rowType = planner.validateAndGetType(query).right;
    assertEquals("pixels", rowType.getFieldList().get(0).getName());
    assertEquals(SqlTypeName.VARBINARY, rowType.getFieldList().get(0).getType().getSqlTypeName());
    planner.close();
  }

  @Test
  void createModelExposesInputsLayersAndValues() throws SqlParseException {
    SqlCreateModel model = parse(CONVNET, SqlCreateModel.class);
    assertEquals("convnet", model.name().getSimple());
    assertTrue(model.architecture().isEmpty());
    assertEquals("label", model.output().orElseThrow().getSimple());
    assertEquals(10, model.classes().orElseThrow());

    SqlModelInput input = model.inputs().get(0);
    assertEquals("image", input.name());
    assertEquals(List.of(1, 28, 28), List.of(box(input.tensorType().dims())));
    assertEquals(SqlTensorTypeNameSpec.ElementType.FLOAT, input.tensorType().elementType());

    List<SqlLayer> layers = model.layers();
    assertEquals(
        List.of("CONV2D", "RELU", "MAXPOOL", "CONV2D", "RELU", "ADD", "MAXPOOL", "FLATTEN",
            "DENSE", "RELU", "DROPOUT", "DENSE"),
        layers.stream().map(SqlLayer::kind).toList());
    SqlLayer conv = layers.get(0);
    assertEquals(List.of(32), conv.positional());
    assertEquals(Map.of("kernel", 5, "padding", "same"), conv.named());
    assertEquals(List.of("kernel", "padding"), List.copyOf(conv.named().keySet()));
    assertTrue(layers.get(1).arguments().isEmpty());
    assertEquals("c2", layers.get(3).alias().orElseThrow().getSimple());
    SqlIdentifier reference = (SqlIdentifier) layers.get(5).positional().get(0);
    assertEquals("c2", reference.getSimple());
    assertEquals(Map.of("stride", 2), layers.get(6).named());
    assertEquals(List.of(new BigDecimal("0.4")), layers.get(10).positional());
    SqlNamedArgument kernel = conv.arguments().namedArgument("KERNEL").orElseThrow();
    assertEquals(new SqlParserPos(3, 14, 3, 21), kernel.getParserPosition());
    assertEquals(3, kernel.namePosition().getLineNum());
  }

  @Test
  void argumentValuesBecomeJavaValues() throws SqlParseException {
    SqlCreateModel model =
        parse(
            "CREATE MODEL m (INPUT x TENSOR(4), L(1, -2, 3000000000, 99999999999999999999,"
                + " 0.5, -1e-3, 'Same', TRUE, FALSE, c2, (3, (4, 5)), TENSOR(2, 2) UINT8,"
                + " a => 1, b = 2, C 3, method 'l1', input TENSOR(1)))",
            SqlCreateModel.class);
    Arguments args = model.layers().get(0).arguments();
    List<Object> values = args.positional();
    assertEquals(1, values.get(0));
    assertEquals(-2, values.get(1));
    assertEquals(3_000_000_000L, values.get(2));
    assertEquals(new BigDecimal("99999999999999999999"), values.get(3));
    assertEquals(new BigDecimal("0.5"), values.get(4));
    assertEquals(-1e-3, values.get(5));
    assertEquals("Same", values.get(6));
    assertEquals(true, values.get(7));
    assertEquals(false, values.get(8));
    assertEquals("c2", ((SqlIdentifier) values.get(9)).getSimple());
    assertEquals(List.of(3, List.of(4, 5)), values.get(10));
    SqlTensorTypeNameSpec tensor = (SqlTensorTypeNameSpec) values.get(11);
    assertEquals(SqlTensorTypeNameSpec.ElementType.UINT8, tensor.elementType());
    Map<String, Object> named = args.named();
    assertEquals(List.of("a", "b", "c", "method", "input"), List.copyOf(named.keySet()));
    assertEquals("l1", named.get("method"));
    assertEquals(List.of(1), List.of(box(((SqlTensorTypeNameSpec) named.get("input")).dims())));
  }

  @Test
  void createModelWithArchitecture() throws SqlParseException {
    SqlCreateModel model =
        parse(
            "CREATE OR REPLACE MODEL IF NOT EXISTS m AS ResNet(depth => 20, width => 2)"
                + " INPUT image TENSOR(1, 28, 28) OUTPUT label CLASSES 10",
            SqlCreateModel.class);
    assertTrue(model.replace());
    assertTrue(model.ifNotExists());
    assertTrue(model.layers().isEmpty());
    SqlArchitecture architecture = model.architecture().orElseThrow();
    assertEquals("RESNET", architecture.name());
    assertEquals(Map.of("depth", 20, "width", 2), architecture.arguments().named());
    assertEquals("image", model.inputs().get(0).name());

    SqlCreateModel bare =
        parse(
            "CREATE MODEL r20 AS RESNET(depth => 20, classes => 10, input => TENSOR(1, 28, 28))",
            SqlCreateModel.class);
    assertTrue(bare.inputs().isEmpty());
    assertTrue(bare.output().isEmpty());
    assertTrue(bare.classes().isEmpty());
    assertEquals(10, bare.architecture().orElseThrow().arguments().named().get("classes"));
  }

  @Test
  void trainAndEvaluateExposeDataAndOptions() throws SqlParseException {
    SqlTrainModel train =
        parse(
            "TRAIN MODEL m ON (SELECT image, label FROM t) WITH (epochs = 5, Batch_Size = 128,"
                + " optimizer = 'sgd', learning_rate = 0.05, augment = TRUE, momentum = -0.9,"
                + " decay = 1e-4, memory_limit = '512MB')",
            SqlTrainModel.class);
    assertEquals("m", train.model().getSimple());
    assertTrue(train.sourceTable().isEmpty());
    assertInstanceOf(SqlSelect.class, train.query());
    Map<String, Object> expected = new LinkedHashMap<>();
    expected.put("epochs", 5);
    expected.put("batch_size", 128);
    expected.put("optimizer", "sgd");
    expected.put("learning_rate", new BigDecimal("0.05"));
    expected.put("augment", true);
    expected.put("momentum", new BigDecimal("-0.9"));
    expected.put("decay", 1e-4);
    expected.put("memory_limit", "512MB");
    assertEquals(expected, train.options());
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(train.options().keySet()));
    SqlOption batch = train.optionList().get(1);
    assertEquals("batch_size", batch.key());
    assertEquals(new SqlParserPos(1, 65, 1, 74), batch.keyPosition());

    SqlEvaluateModel evaluate = parse("EVALUATE MODEL m ON TABLE s.t", SqlEvaluateModel.class);
    assertEquals(List.of("s", "t"), evaluate.sourceTable().orElseThrow().names);
    assertEquals(Map.of(), evaluate.options());
    assertEquals(
        "SELECT * FROM \"s\".\"t\"",
        evaluate.query().toSqlString(CalciteSqlDialect.DEFAULT).getSql().replace('\n', ' '));
  }

  /**
   * The node tree of PREDICT in FROM: the parser builds {@link SqlPredict} where the table
   * reference is, and Calcite's TableRef wraps an alias (with any column aliases) in AS.
   */
  @Test
  void predictIsATableReference() throws SqlParseException {
    SqlSelect select =
        parse(
            "SELECT * FROM PREDICT(MODEL m, (SELECT id, image FROM t)) AS p (id, label)",
            SqlSelect.class);
    SqlBasicCall as = assertInstanceOf(SqlBasicCall.class, select.getFrom());
    assertEquals(SqlKind.AS, as.getKind());
    SqlPredict predict = assertInstanceOf(SqlPredict.class, as.operand(0));
    assertEquals(
        List.of("p", "id", "label"),
        as.getOperandList().subList(1, 4).stream()
            .map(n -> ((SqlIdentifier) n).getSimple())
            .toList());
    assertEquals("m", predict.model().getSimple());
    assertInstanceOf(SqlSelect.class, predict.input());
    assertTrue(predict.inputTable().isEmpty());

    SqlSelect joined =
        parse("SELECT * FROM PREDICT(MODEL m, t) p JOIN u ON p.id = u.id", SqlSelect.class);
    SqlJoin join = assertInstanceOf(SqlJoin.class, joined.getFrom());
    SqlPredict left = (SqlPredict) ((SqlCall) join.getLeft()).operand(0);
    assertEquals("t", left.inputTable().orElseThrow().getSimple());
    assertInstanceOf(SqlSelect.class, left.query());

    SqlSelect bare = parse("SELECT * FROM PREDICT(MODEL m, TABLE t)", SqlSelect.class);
    assertInstanceOf(SqlPredict.class, bare.getFrom());
  }

  @Test
  void compressExposesMethodAndData() throws SqlParseException {
    SqlCompressModel quantize =
        parse(
            "COMPRESS MODEL m INTO m_int8 USING QUANTIZE(int8) CALIBRATE ON (SELECT image FROM t)",
            SqlCompressModel.class);
    assertEquals("m", quantize.model().getSimple());
    assertEquals("m_int8", quantize.target().getSimple());
    assertEquals("QUANTIZE", quantize.method().name());
    SqlIdentifier precision = (SqlIdentifier) quantize.method().arguments().positional().get(0);
    assertEquals("int8", precision.getSimple());
    assertTrue(quantize.calibrationQuery().isPresent());
    assertTrue(quantize.finetuneQuery().isEmpty());
    assertTrue(quantize.trainingQuery().isEmpty());

    SqlCompressModel prune =
        parse(
            "COMPRESS MODEL m INTO m2 USING PRUNE(0.8, METHOD 'l1', SCOPE 'global')"
                + " FINETUNE ON t WITH (epochs = 1)",
            SqlCompressModel.class);
    assertEquals(List.of(new BigDecimal("0.8")), prune.method().arguments().positional());
    assertEquals(Map.of("method", "l1", "scope", "global"), prune.method().arguments().named());
    assertInstanceOf(SqlSelect.class, prune.finetuneQuery().orElseThrow());
    assertEquals(Map.of("epochs", 1), prune.options());

    SqlCompressModel distill =
        parse(
            "COMPRESS MODEL big INTO small USING DISTILL(STUDENT small_arch, TEMPERATURE 4)"
                + " ON (SELECT * FROM t)",
            SqlCompressModel.class);
    Map<String, Object> args = distill.method().arguments().named();
    assertEquals("small_arch", ((SqlIdentifier) args.get("student")).getSimple());
    assertEquals(4, args.get("temperature"));
    assertTrue(distill.trainingQuery().isPresent());
  }

  @Test
  void smallStatements() throws SqlParseException {
    assertEquals("m", parse("DROP MODEL IF EXISTS m", SqlDropModel.class).name().getSimple());
    assertTrue(parse("DROP MODEL IF EXISTS m", SqlDropModel.class).ifExists());
    assertFalse(parse("DROP MODEL m", SqlDropModel.class).cascade());
    assertTrue(parse("DROP MODEL m CASCADE", SqlDropModel.class).cascade());
    assertFalse(parse("DROP TABLE t", SqlDropTable.class).ifExists());
    parse("SHOW MODELS", SqlShowModels.class);
    parse("show tables", SqlShowTables.class);
    assertEquals("m", parse("DESCRIBE MODEL m", SqlDescribeModel.class).model().getSimple());
    assertEquals(
        Map.of("repeats", 3),
        parse("ANALYZE MODEL m WITH (repeats = 3)", SqlAnalyzeModel.class).options());
    SqlExplainModel explain = parse("EXPLAIN ANALYZE TRAIN MODEL m ON t", SqlExplainModel.class);
    assertTrue(explain.analyze());
    assertInstanceOf(SqlTrainModel.class, explain.statement());
    SqlExplainModel plain = parse("explain predict(model m, t)", SqlExplainModel.class);
    assertFalse(plain.analyze());
    assertInstanceOf(SqlPredict.class, plain.statement());
  }

  @Test
  void keywordsAreCaseInsensitive() throws SqlParseException {
    SqlTrainModel train = parse("tRaIn MoDeL \"MyModel\" oN t", SqlTrainModel.class);
    assertEquals("MyModel", train.model().getSimple());
  }

  @Test
  void syntaxErrorsNameLineAndColumn() {
    SqlParseException missingParen =
        parseError("CREATE MODEL m (\n  INPUT x TENSOR(4),\n  DENSE(10\n) OUTPUT label");
    assertTrue(
        missingParen.getMessage().startsWith("Encountered \"OUTPUT\" at line 4, column 3."),
        missingParen.getMessage());
    assertEquals(4, missingParen.getPos().getLineNum());
    assertEquals(3, missingParen.getPos().getColumnNum());

    SqlParseException noOn = parseError("TRAIN MODEL m WITH (epochs = 5)");
    assertTrue(
        noOn.getMessage().startsWith("Encountered \"WITH\" at line 1, column 15."),
        noOn.getMessage());
    assertTrue(noOn.getMessage().contains("\"ON\""), noOn.getMessage());

    SqlParseException duplicate =
        parseError("TRAIN MODEL m ON t\nWITH (epochs = 5, seed = 1, EPOCHS = 6)");
    assertEquals("Duplicate option 'epochs' at line 2, column 29", duplicate.getMessage());
    assertEquals(new SqlParserPos(2, 29, 2, 34), duplicate.getPos());

    SqlParseException noInput = parseError("CREATE MODEL m (DENSE(10))");
    assertTrue(noInput.getMessage().contains("at least one input"), noInput.getMessage());
    assertTrue(noInput.getMessage().endsWith("at line 1, column 16"), noInput.getMessage());

    SqlParseException lexical = parseError("TRAIN MODEL m ON t WITH (epochs = 5 #)");
    assertTrue(lexical.getMessage().contains("line 1, column 37"), lexical.getMessage());
  }

  @Test
  void scriptsSplitOnSemicolons() throws SqlParseException {
    SqlNodeList script =
        DlsqlParser.parseStatements(
            CONVNET + ";\nTRAIN MODEL convnet ON t;\n"
                + "SELECT * FROM PREDICT(MODEL convnet, t);\nSHOW MODELS;");
    assertEquals(4, script.size());
    assertInstanceOf(SqlCreateModel.class, script.get(0));
    assertInstanceOf(SqlTrainModel.class, script.get(1));
    assertInstanceOf(SqlSelect.class, script.get(2));
    assertInstanceOf(SqlShowModels.class, script.get(3));
    SqlParseException error =
        assertThrows(
            SqlParseException.class,
            () -> DlsqlParser.parseStatements("SHOW MODELS;\nTRAIN MODEL m t"));
    assertTrue(error.getMessage().contains("line 2, column 15"), error.getMessage());
  }

  /** Unparsed SQL parses back to an equal tree, under dlsql's own configuration. */
  @Test
  void everyStatementRoundTrips() throws SqlParseException {
    for (String sql : ALL_STATEMENTS) {
      SqlNode node = DlsqlParser.parse(sql);
      String unparsed = node.toSqlString(CalciteSqlDialect.DEFAULT).getSql();
      SqlNode again = DlsqlParser.parse(unparsed);
      assertTrue(node.equalsDeep(again, Litmus.IGNORE), sql + "\n  became\n" + unparsed);
      assertEquals(unparsed, again.toSqlString(CalciteSqlDialect.DEFAULT).getSql());
    }
  }

  /**
   * A shuttle that changes a leaf rebuilds each enclosing node through its operator, which must
   * keep the node's class; clone() goes the same way.
   */
  @Test
  void shuttlesAndClonesKeepNodeClasses() throws SqlParseException {
    SqlShuttle renameT =
        new SqlShuttle() {
          @Override
          public SqlNode visit(SqlIdentifier id) {
            if (!id.names.contains("t")) {
              return id;
            }
            List<String> names =
                id.names.stream().map(n -> n.equals("t") ? "renamed" : n).toList();
            return new SqlIdentifier(names, id.getParserPosition());
          }
        };
    for (String sql : ALL_STATEMENTS) {
      SqlNode node = DlsqlParser.parse(sql);
      SqlNode copy = node.accept(renameT);
      assertEquals(node.getClass(), copy.getClass(), sql);
      String before = node.toSqlString(CalciteSqlDialect.DEFAULT).getSql();
      String after = copy.toSqlString(CalciteSqlDialect.DEFAULT).getSql();
      assertEquals(before.replace("\"t\"", "\"renamed\""), after, sql);
      SqlNode clone = node.clone(SqlParserPos.ZERO);
      assertNotSame(node, clone);
      assertEquals(node.getClass(), clone.getClass(), sql);
      assertTrue(node.equalsDeep(clone, Litmus.IGNORE), sql);
    }
  }

  private static <T extends SqlNode> T parse(String sql, Class<T> type) throws SqlParseException {
    return assertInstanceOf(type, DlsqlParser.parse(sql));
  }

  private static SqlParseException parseError(String sql) {
    return assertThrows(SqlParseException.class, () -> DlsqlParser.parse(sql), sql);
  }

  private static Integer[] box(int[] values) {
    Integer[] boxed = new Integer[values.length];
    for (int i = 0; i < values.length; i++) {
      boxed[i] = values[i];
    }
    return boxed;
  }
}
