package io.dlsql.jdbc;

import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.TensorType;
import io.dlsql.catalog.UserException;
import io.dlsql.executor.train.EvaluationResult;
import io.dlsql.executor.train.Evaluator;
import io.dlsql.parser.SqlEvaluateModel;
import io.dlsql.parser.SqlPredict;
import io.dlsql.planner.PlanRequest;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.type.SqlTypeName;

/** PREDICT (a table expression) and EVALUATE MODEL over a trained model or any compressed variant of one. */
final class Inference {
  static final String PREDICTED_LABEL = "predicted_label";
  static final String CONFIDENCE = "confidence";
  static final int BATCH = Evaluator.DEFAULT_BATCH;

  /** PREDICT's rows and which of its columns hold tensors. */
  record Materialized(ResultRows rows, Map<String, TensorType> tensorColumns) {}

  private final Session session;
  private final ModelStatements models;

  Inference(Session session) {
    this.session = session;
    this.models = new ModelStatements(session);
  }

  /** The input rows with two columns added: the most likely class and its probability. */
  Materialized predict(SqlPredict predict, Execution execution) throws SQLException {
    String name = ModelStatements.modelName(predict.model());
    ModelInfo info = models.model(name);
    try (ModelVariants.Opened model = new ModelVariants(session).open(info, PlanRequest.infer(BATCH, session.settings()));
        Session.QueryRun run = session.openQuery(predict.query(), execution);
        ModelInputs data = ModelInputs.load(run, info, false, true, execution, "PREDICT(MODEL " + name + ")")) {
      for (String added : List.of(PREDICTED_LABEL, CONFIDENCE)) {
        if (run.indexOf(added) >= 0) {
          throw new UserException("PREDICT(MODEL " + name + "): the input already has a column '" + added + "'; rename it");
        }
      }
      execution.report(new Execution.Progress("predicting", name, 0, 0, 0, 0, Double.NaN, 0, Double.NaN));
      int classes = info.classes();
      float[] probabilities = model.probabilities(data.dataset(), BATCH);
      List<ResultRows.Column> columns = new ArrayList<>(data.columns());
      columns.add(new ResultRows.Column(PREDICTED_LABEL, SqlTypeName.INTEGER, false));
      columns.add(new ResultRows.Column(CONFIDENCE, SqlTypeName.DOUBLE, false));
      List<Object[]> rows = new ArrayList<>(data.size());
      for (int i = 0; i < data.size(); i++) {
        Object[] in = data.rows().get(i);
        Object[] out = java.util.Arrays.copyOf(in, in.length + 2);
        int best = 0;
        for (int c = 1; c < classes; c++) {
          if (probabilities[i * classes + c] > probabilities[i * classes + best]) {
            best = c;
          }
        }
        out[in.length] = best;
        out[in.length + 1] = (double) probabilities[i * classes + best];
        rows.add(out);
      }
      Map<String, TensorType> tensors = new LinkedHashMap<>();
      for (int c = 0; c < run.columnNames().size(); c++) {
        if (run.tensorType(c) != null) {
          tensors.put(run.columnNames().get(c), run.tensorType(c));
        }
      }
      return new Materialized(new ResultRows(List.copyOf(columns), rows), tensors);
    }
  }

  /** Overall accuracy and loss, then precision, recall and F1 per class. */
  ResultRows evaluate(SqlEvaluateModel evaluate, Execution execution) throws SQLException {
    String name = ModelStatements.modelName(evaluate.model());
    ModelInfo info = models.model(name);
    if (!evaluate.options().isEmpty()) {
      throw new UserException("EVALUATE MODEL takes no options, got " + evaluate.options().keySet());
    }
    EvaluationResult result;
    try (ModelVariants.Opened model = new ModelVariants(session).open(info, PlanRequest.infer(BATCH, session.settings()));
        ModelInputs data = session.modelInputs(evaluate.query(), info, execution, "EVALUATE MODEL " + name)) {
      if (data.size() == 0) {
        throw new UserException("EVALUATE MODEL " + name + ": the query returned no rows");
      }
      execution.report(new Execution.Progress("evaluating", name, 0, 0, 0, 0, Double.NaN, 0, Double.NaN));
      result = model.evaluate(data.dataset(), BATCH);
    }
    session.catalog().updateModelInfo(info.toBuilder().accuracy(result.accuracy()).loss(result.meanLoss()).build());
    ResultRows.Builder rows = ResultRows.builder()
        .column("class", SqlTypeName.VARCHAR)
        .column("images", SqlTypeName.BIGINT)
        .column("accuracy", SqlTypeName.DOUBLE)
        .column("loss", SqlTypeName.DOUBLE)
        .column("precision", SqlTypeName.DOUBLE)
        .column("recall", SqlTypeName.DOUBLE)
        .column("f1", SqlTypeName.DOUBLE);
    double macroPrecision = 0;
    double macroRecall = 0;
    for (int c = 0; c < result.classes(); c++) {
      macroPrecision += definedOrZero(result.precision(c));
      macroRecall += definedOrZero(result.recall(c));
    }
    macroPrecision /= result.classes();
    macroRecall /= result.classes();
    rows.row("all", result.count(), result.accuracy(), result.meanLoss(), macroPrecision, macroRecall,
        f1(macroPrecision, macroRecall));
    for (int c = 0; c < result.classes(); c++) {
      double p = definedOrZero(result.precision(c));
      double r = definedOrZero(result.recall(c));
      rows.row(Integer.toString(c), result.support(c), null, null, p, r, f1(p, r));
    }
    return rows.build();
  }

  /** Precision of a class never predicted (0/0) counts as 0, as is usual for macro averages. */
  private static double definedOrZero(double v) {
    return Double.isNaN(v) ? 0 : v;
  }

  private static double f1(double precision, double recall) {
    return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
  }
}
