package io.dlsql.parser;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;

import io.dlsql.parser.impl.DlsqlParserImpl;
import java.util.ArrayList;
import java.util.List;
import org.apache.calcite.sql.SqlExplain;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlSetOption;
import org.apache.calcite.sql.parser.DlsqlParserTestBase;
import org.apache.calcite.sql.parser.SqlAbstractParserImpl;
import org.apache.calcite.sql.parser.impl.SqlParserImpl;
import org.junit.jupiter.api.Test;

/**
 * Calcite's whole parser suite against dlsql's grammar (inherited), plus dlsql's statements in
 * the same style: each {@code ok} parses, unparses with Calcite's test dialect (back-ticks,
 * identifiers upper-cased) and compares; each {@code fails} checks the message and that the
 * error points at the text between the carets.
 */
class DlsqlParserTest extends DlsqlParserTestBase {

  /** Every word dlsql adds is non-reserved: the reserved words are exactly Calcite's. */
  @Test
  void testNoNewReservedWords() {
    SqlAbstractParserImpl.Metadata dlsql = fixture().parser().getMetadata();
    SqlAbstractParserImpl.Metadata calcite =
        SqlParserImpl.FACTORY.getParser(new java.io.StringReader("")).getMetadata();
    List<String> newlyReserved = new ArrayList<>();
    for (String token : dlsql.getTokens()) {
      if (dlsql.isKeyword(token) && dlsql.isReservedWord(token) && !calcite.isReservedWord(token)) {
        newlyReserved.add(token);
      }
    }
    assertThat(newlyReserved, is(empty()));
    for (String word :
        List.of("MODEL", "MODELS", "TRAIN", "EVALUATE", "PREDICT", "TENSOR", "UINT8", "CLASSES",
            "COMPRESS", "CALIBRATE", "FINETUNE", "ANALYZE", "TABLES", "IF")) {
      assertThat(word, dlsql.isKeyword(word), is(true));
      assertThat(word, dlsql.isNonReservedKeyword(word), is(true));
    }
  }

  @Test
  void testNewKeywordsStayIdentifiers() {
    sql("select model, models, train, evaluate, predict, tensor, uint8, classes, compress,"
            + " calibrate, finetune, analyze, tables, kernel, stride, padding from predict")
        .ok("SELECT `MODEL`, `MODELS`, `TRAIN`, `EVALUATE`, `PREDICT`, `TENSOR`, `UINT8`,"
            + " `CLASSES`, `COMPRESS`, `CALIBRATE`, `FINETUNE`, `ANALYZE`, `TABLES`, `KERNEL`,"
            + " `STRIDE`, `PADDING`\n"
            + "FROM `PREDICT`");
    // A table function that happens to be called predict is still Calcite's implicit call.
    sql("select * from predict(1, 2)").ok("SELECT *\nFROM TABLE(`PREDICT`(1, 2))");
  }

  @Test
  void testCreateTable() {
    sql("create table t (id integer, image tensor(1, 28, 28) uint8 not null, label integer null)")
        .ok("CREATE TABLE `T` (`ID` INTEGER, `IMAGE` TENSOR(1, 28, 28) UINT8 NOT NULL,"
            + " `LABEL` INTEGER)");
    sql("create or replace table if not exists s.t (x tensor(3))")
        .ok("CREATE OR REPLACE TABLE IF NOT EXISTS `S`.`T` (`X` TENSOR(3) FLOAT)");
    sql("create table t as select a from u")
        .ok("CREATE TABLE `T` AS\n"
            + "SELECT `A`\n"
            + "FROM `U`");
    sql("create table t (a integer, img tensor(2, 2) uint8) as select a, b from u")
        .ok("CREATE TABLE `T` (`A` INTEGER, `IMG` TENSOR(2, 2) UINT8) AS\n"
            + "SELECT `A`, `B`\n"
            + "FROM `U`");
    sql("create table t (a integer)").node(instanceOf(SqlCreateTable.class));
    sql("create table t a^s^").fails("(?s).*Encountered \"<EOF>\" at line 1, column 17.*");
    sql("create table t (a ^)^").fails("(?s).*Encountered \"\\)\" at line 1, column 19.*");
  }

  @Test
  void testTensorType() {
    expr("cast(x as tensor(1, 28, 28) uint8)").ok("CAST(`X` AS TENSOR(1, 28, 28) UINT8)");
    expr("cast(x as tensor(10))").ok("CAST(`X` AS TENSOR(10) FLOAT)");
    // A user-defined type called tensor (no dimensions) is untouched.
    expr("cast(x as tensor)").ok("CAST(`X` AS `TENSOR`)");
    sql("create table t (x tensor(1, ^0^))")
        .fails("A tensor dimension must be a positive integer up to 2147483647, not 0"
            + " at line 1, column 29");
    sql("create table t (x tensor(^99999999999^))")
        .fails("(?s)A tensor dimension must be a positive integer.*");
    sql("create table t (x tensor(^-^1))").fails("(?s).*Encountered \"-\" at line 1, column 26.*");
  }

  @Test
  void testDropTable() {
    sql("drop table t").ok("DROP TABLE `T`");
    sql("drop table if exists s.t").ok("DROP TABLE IF EXISTS `S`.`T`");
  }

  @Test
  void testCreateModelWithLayers() {
    sql("CREATE MODEL m (\n"
            + "  INPUT image TENSOR(1, 28, 28),\n"
            + "  CONV2D(32, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),\n"
            + "  CONV2D(64, KERNEL 5, PADDING 'same') AS c2, RELU, ADD(c2), MAXPOOL(2, STRIDE 2),\n"
            + "  FLATTEN, DENSE(1024), RELU, DROPOUT(0.4), DENSE(10)\n"
            + ") OUTPUT label CLASSES 10")
        .ok("CREATE MODEL `M` (INPUT `IMAGE` TENSOR(1, 28, 28) FLOAT,"
            + " CONV2D(32, KERNEL 5, PADDING 'same'), RELU, MAXPOOL(2),"
            + " CONV2D(64, KERNEL 5, PADDING 'same') AS `C2`, RELU, ADD(`C2`),"
            + " MAXPOOL(2, STRIDE 2), FLATTEN, DENSE(1024), RELU, DROPOUT(0.4), DENSE(10))"
            + " OUTPUT `LABEL` CLASSES 10");
    sql("create or replace model if not exists m (input a tensor(3) uint8, input b tensor(3),"
            + " conv2d(8, kernel => (3, 3), stride = 1, padding 'valid', bias false, eps 1e-5,"
            + " shift -2, input => tensor(1, 2)), concat(a, b))")
        .ok("CREATE OR REPLACE MODEL IF NOT EXISTS `M` (INPUT `A` TENSOR(3) UINT8,"
            + " INPUT `B` TENSOR(3) FLOAT, CONV2D(8, KERNEL (3, 3), STRIDE 1, PADDING 'valid',"
            + " BIAS FALSE, EPS 1E-5, SHIFT -2, INPUT TENSOR(1, 2) FLOAT), CONCAT(`A`, `B`))");
    // Reserved words may name arguments; a layer without arguments may keep its parentheses.
    sql("create model m (input x tensor(4), prune(method 'l1', scope 'global'), relu())")
        .ok("CREATE MODEL `M` (INPUT `X` TENSOR(4) FLOAT,"
            + " PRUNE(METHOD 'l1', SCOPE 'global'), RELU())");
  }

  @Test
  void testCreateModelSyntaxErrors() {
    // A missing ")" in the layer list, after the last layer or its arguments.
    sql("create model m (input x tensor(4), conv2d(8, kernel 3 ^output^ label classes 10")
        .fails("(?s).*Encountered \"output\" at line 1, column 55.*");
    sql("create model m (input x tensor(4), dense(10) ^output^ label")
        .fails("(?s).*Encountered \"output\" at line 1, column 46.\n"
            + "Was expecting one of:\n"
            + "    \"AS\" \\.\\.\\.\n"
            + "    \"\\)\" \\.\\.\\.\n"
            + "    \",\" \\.\\.\\..*");
    sql("create model m (input x tensor(4), dense(10^)^")
        .fails("(?s).*Encountered \"<EOF>\" at line 1, column 44.*");
    sql("create model m (input x tensor(4), dense(10, units => ^)^)")
        .fails("(?s).*Encountered \"\\)\" at line 1, column 55.*");
    sql("create model m (input x tensor(4), dense(units 10, ^units^ 20))")
        .fails("Duplicate argument 'units' at line 1, column 52");
    sql("create model m ^(^dense(10))")
        .fails("CREATE MODEL needs at least one input item, such as INPUT image"
            + " TENSOR\\(1, 28, 28\\) at line 1, column 16");
    sql("create model m ^(^input x tensor(4))")
        .fails("CREATE MODEL needs at least one layer at line 1, column 16");
    sql("create model m (input x tensor(4), dense(10)) classes ^0^")
        .fails("CLASSES must be a positive integer up to 2147483647, not 0 at line 1, column 55");
    sql("create model m (input x ^integer^, dense(10))")
        .fails("(?s).*Encountered \"integer\" at line 1, column 25.*");
  }

  @Test
  void testCreateModelWithArchitecture() {
    sql("create model m as resnet(depth => 20, width => 2) input image tensor(1, 28, 28)"
            + " output label classes 10")
        .ok("CREATE MODEL `M` AS RESNET(DEPTH 20, WIDTH 2) INPUT `IMAGE` TENSOR(1, 28, 28) FLOAT"
            + " OUTPUT `LABEL` CLASSES 10");
    sql("create model r20 as resnet(depth => 20, classes => 10, input => tensor(1, 28, 28))")
        .ok("CREATE MODEL `R20` AS RESNET(DEPTH 20, CLASSES 10, INPUT TENSOR(1, 28, 28) FLOAT)");
    sql("create model m as lenet").ok("CREATE MODEL `M` AS LENET");
  }

  @Test
  void testDropModel() {
    sql("drop model m").ok("DROP MODEL `M`");
    sql("drop model if exists m").ok("DROP MODEL IF EXISTS `M`");
    sql("drop model if exists m cascade").ok("DROP MODEL IF EXISTS `M` CASCADE");
  }

  @Test
  void testTrainModel() {
    sql("train model m on (select image, label from t)"
            + " with (epochs = 5, batch_size = 128, optimizer = 'sgd', learning_rate = 0.05,"
            + " augment = true, momentum = -0.9, decay = 1e-4)")
        .ok("TRAIN MODEL `M` ON (SELECT `IMAGE`, `LABEL`\n"
            + "FROM `T`) WITH (EPOCHS = 5, BATCH_SIZE = 128, OPTIMIZER = 'sgd',"
            + " LEARNING_RATE = 0.05, AUGMENT = TRUE, MOMENTUM = -0.9, DECAY = 1E-4)");
    sql("train model m on some_table").ok("TRAIN MODEL `M` ON `SOME_TABLE`");
    sql("train model m on table s.t with (seed = 42)")
        .ok("TRAIN MODEL `M` ON `S`.`T` WITH (SEED = 42)");
    sql("train model m on (select * from t union select * from u order by 1 limit 5)")
        .ok("TRAIN MODEL `M` ON (SELECT *\n"
            + "FROM `T`\n"
            + "UNION\n"
            + "SELECT *\n"
            + "FROM `U`\n"
            + "ORDER BY 1\n"
            + "FETCH NEXT 5 ROWS ONLY)");
  }

  @Test
  void testTrainModelSyntaxErrors() {
    sql("train model m ^with^ (epochs = 5)")
        .fails("(?s).*Encountered \"with\" at line 1, column 15.\n"
            + "Was expecting one of:\n"
            + "    \"ON\" \\.\\.\\..*");
    sql("train model m on t with (epochs = 5, ^epochs^ = 6)")
        .fails("Duplicate option 'epochs' at line 1, column 38");
    sql("train model m on t with (EPOCHS = 5, ^Epochs^ = 6)")
        .fails("Duplicate option 'epochs' at line 1, column 38");
    sql("train model m on t with (epochs ^5^)")
        .fails("(?s).*Encountered \"5\" at line 1, column 33.*");
    sql("train model m on t with (epochs = ^x^)")
        .fails("(?s).*Encountered \"x\" at line 1, column 35.*");
    sql("train model m on t with (^)^")
        .fails("Expected an option name, as in WITH \\(epochs = 5\\), but found '\\)'"
            + " at line 1, column 26");
    sql("train model m on (^1^ + 2)")
        .fails("(?s).*Non-query expression encountered in illegal context.*");
  }

  @Test
  void testEvaluateModel() {
    sql("evaluate model m on (select image, label from t)")
        .ok("EVALUATE MODEL `M` ON (SELECT `IMAGE`, `LABEL`\n"
            + "FROM `T`)");
    sql("evaluate model m on t with (batch_size = 256)")
        .ok("EVALUATE MODEL `M` ON `T` WITH (BATCH_SIZE = 256)");
  }

  @Test
  void testPredictInFrom() {
    sql("select * from predict(model m, (select id, image from t))")
        .ok("SELECT *\n"
            + "FROM PREDICT(MODEL `M`, (SELECT `ID`, `IMAGE`\n"
            + "FROM `T`))");
    sql("select * from predict(model m, table t) as p")
        .ok("SELECT *\n"
            + "FROM PREDICT(MODEL `M`, TABLE `T`) AS `P`");
    sql("select * from predict(model s.m, t) p (a, b)")
        .ok("SELECT *\n"
            + "FROM PREDICT(MODEL `S`.`M`, TABLE `T`) AS `P` (`A`, `B`)");
    sql("select p.label, count(*) from predict(model m, (select id, image from t)) p"
            + " join labels l on p.id = l.id where p.label <> l.label group by p.label")
        .ok("SELECT `P`.`LABEL`, COUNT(*)\n"
            + "FROM PREDICT(MODEL `M`, (SELECT `ID`, `IMAGE`\n"
            + "FROM `T`)) AS `P`\n"
            + "INNER JOIN `LABELS` AS `L` ON (`P`.`ID` = `L`.`ID`)\n"
            + "WHERE (`P`.`LABEL` <> `L`.`LABEL`)\n"
            + "GROUP BY `P`.`LABEL`");
    sql("select * from t where id in (select id from predict(model m, t) where label = 3)")
        .ok("SELECT *\n"
            + "FROM `T`\n"
            + "WHERE (`ID` IN (SELECT `ID`\n"
            + "FROM PREDICT(MODEL `M`, TABLE `T`)\n"
            + "WHERE (`LABEL` = 3)))");
    sql("select * from a, predict(model m, (select 1 union select 2)) left join b on true")
        .ok("SELECT *\n"
            + "FROM `A`,\n"
            + "PREDICT(MODEL `M`, (SELECT 1\n"
            + "UNION\n"
            + "SELECT 2))\n"
            + "LEFT JOIN `B` ON TRUE");
    sql("select * from predict(model m, (select * from t)) as p(x) tablesample bernoulli(50)")
        .ok("SELECT *\n"
            + "FROM PREDICT(MODEL `M`, (SELECT *\n"
            + "FROM `T`)) AS `P` (`X`) TABLESAMPLE BERNOULLI(50.0)");
    sql("select * from predict(model m, (select * from t)) p (^a^")
        .fails("(?s).*Encountered \"<EOF>\" at line 1, column 54.*");
    sql("select * from predict(model m^)^")
        .fails("(?s).*Encountered \"\\)\" at line 1, column 30.*");
  }

  @Test
  void testShowAndDescribe() {
    sql("show models").ok("SHOW MODELS");
    sql("show tables").ok("SHOW TABLES");
    sql("describe model m").ok("DESCRIBE MODEL `M`");
    // Calcite's DESCRIBE keeps working, including for a table called model when written so.
    sql("describe table t").ok("DESCRIBE TABLE `T`");
    sql("describe t").ok("DESCRIBE TABLE `T`");
    sql("describe table model").ok("DESCRIBE TABLE `MODEL`");
    sql("^show^ views")
        .fails("(?s).*Encountered \"show views\" at line 1, column 1.*\"SHOW\" \"MODELS\".*");
  }

  @Test
  void testCompressModel() {
    sql("compress model m into m2 using quantize(int8)"
            + " calibrate on (select image from t limit 1000)")
        .ok("COMPRESS MODEL `M` INTO `M2` USING QUANTIZE(`INT8`) CALIBRATE ON (SELECT `IMAGE`\n"
            + "FROM `T`\n"
            + "FETCH NEXT 1000 ROWS ONLY)");
    sql("compress model m into m2 using prune(0.8, method 'l1', scope 'global')"
            + " finetune on (select * from t) with (epochs = 1)")
        .ok("COMPRESS MODEL `M` INTO `M2` USING PRUNE(0.8, METHOD 'l1', SCOPE 'global')"
            + " FINETUNE ON (SELECT *\n"
            + "FROM `T`) WITH (EPOCHS = 1)");
    sql("compress model m into m2 using distill(student small, temperature 4) on t"
            + " with (epochs = 3)")
        .ok("COMPRESS MODEL `M` INTO `M2` USING DISTILL(STUDENT `SMALL`, TEMPERATURE 4)"
            + " ON `T` WITH (EPOCHS = 3)");
    sql("compress model m into m2 using quantize(int8)")
        .ok("COMPRESS MODEL `M` INTO `M2` USING QUANTIZE(`INT8`)");
    sql("compress model m ^using^ quantize(int8)")
        .fails("(?s).*Encountered \"using\" at line 1, column 18.*");
  }

  @Test
  void testAnalyzeModel() {
    sql("analyze model m").ok("ANALYZE MODEL `M`");
    sql("analyze model m with (repeats = 3)").ok("ANALYZE MODEL `M` WITH (REPEATS = 3)");
  }

  @Test
  void testExplainModel() {
    sql("explain train model m on t with (epochs = 1)")
        .ok("EXPLAIN TRAIN MODEL `M` ON `T` WITH (EPOCHS = 1)");
    sql("explain analyze evaluate model m on (select * from t)")
        .ok("EXPLAIN ANALYZE EVALUATE MODEL `M` ON (SELECT *\n"
            + "FROM `T`)");
    sql("explain analyze predict(model m, (select * from t))")
        .ok("EXPLAIN ANALYZE PREDICT(MODEL `M`, (SELECT *\n"
            + "FROM `T`))");
    sql("explain plan for select * from t").node(instanceOf(SqlExplain.class));
    sql("explain ^drop^ model m").fails("(?s).*Encountered \"drop\" at line 1, column 9.*");
  }

  @Test
  void testSetAndResetStillCalcite() {
    sql("set memory_limit = '512MB'").node(instanceOf(SqlSetOption.class));
    sql("reset memory_limit").ok("RESET `MEMORY_LIMIT`");
  }

  @Test
  void testStatementKinds() {
    assertKind("create table t (a int)", SqlKind.CREATE_TABLE);
    assertKind("drop table t", SqlKind.DROP_TABLE);
    assertKind("create model m as lenet", SqlKind.OTHER_DDL);
    assertKind("drop model m", SqlKind.OTHER_DDL);
    assertKind("train model m on t", SqlKind.OTHER);
    assertKind("show models", SqlKind.OTHER);
    for (String ddl : List.of("create table t (a int)", "drop model m")) {
      assertThat(ddl, fixture().sql(ddl).node().isA(SqlKind.DDL), is(true));
    }
    assertThat(fixture().sql("train model m on t").node().isA(SqlKind.DDL), is(false));
  }

  private void assertKind(String sql, SqlKind kind) {
    assertThat(sql, fixture().sql(sql).node().getKind(), is(kind));
  }

  /** The factory Calcite's JDBC driver is configured with (see jdbc's Engine). */
  @Test
  void testFactoryIsTheGeneratedOne() {
    assertThat(DlsqlParser.config().parserFactory(), is(DlsqlParserImpl.FACTORY));
  }
}
