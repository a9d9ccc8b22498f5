package io.dlsql.jdbc;

import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.tensor.MemoryTracker;
import io.dlsql.executor.train.Evaluator;
import io.dlsql.executor.train.TrainOptions;
import io.dlsql.parser.SqlAnalyzeModel;
import io.dlsql.parser.SqlEvaluateModel;
import io.dlsql.parser.SqlExplainModel;
import io.dlsql.parser.SqlPredict;
import io.dlsql.parser.SqlTrainModel;
import io.dlsql.planner.Mode;
import io.dlsql.planner.PlanRequest;
import io.dlsql.planner.PlanBinding;
import io.dlsql.planner.PlannerSettings;
import io.dlsql.planner.Planner;
import io.dlsql.planner.cost.Analyzer;
import io.dlsql.planner.cost.Calibration;
import io.dlsql.planner.cost.MachineProfile;
import io.dlsql.planner.cost.TuningRecords;
import io.dlsql.planner.explain.Explain;
import io.dlsql.planner.explain.ExplainRow;
import io.dlsql.planner.kernel.KernelRegistry;
import io.dlsql.planner.physical.PhysicalPlan;
import io.dlsql.planner.physical.PlanNode;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * EXPLAIN of TRAIN, EVALUATE and PREDICT (the physical plan with estimated time and memory per
 * operator, before anything runs) and ANALYZE MODEL (kernel timings on this machine, stored in
 * the catalog as tuning records the planner uses afterwards).
 */
final class Planning {
  private static final String INDENT = "  ";
  private static final double NANOS_PER_MILLI = 1e6;
  /** Adam keeps two moments per parameter. */
  private static final int ADAM_SLOTS = 2;

  private final Session session;
  private final ModelStatements models;

  Planning(Session session) {
    this.session = session;
    this.models = new ModelStatements(session);
  }

  ResultRows explain(SqlExplainModel explain, Execution execution) throws SQLException {
    if (explain.analyze()) {
      return explainAnalyze(explain.statement(), execution);
    }
    String inferred = switch (explain.statement()) {
      case SqlEvaluateModel evaluate -> ModelStatements.modelName(evaluate.model());
      case SqlPredict predict -> ModelStatements.modelName(predict.model());
      default -> null;
    };
    if (inferred != null) {
      // An int8 variant runs its own kernels, not a planned fp32 network: show those.
      List<ExplainRow> int8 = new ModelVariants(session).explainInt8(models.model(inferred), io.dlsql.planner.Mode.INFER.name());
      if (!int8.isEmpty()) {
        return rows(int8);
      }
    }
    PhysicalPlan plan = switch (explain.statement()) {
      case SqlTrainModel train -> planTraining(train, execution);
      case SqlEvaluateModel evaluate -> planInference(ModelStatements.modelName(evaluate.model()), Evaluator.DEFAULT_BATCH);
      case SqlPredict predict -> planInference(ModelStatements.modelName(predict.model()), Inference.BATCH);
      default -> throw new UserException("EXPLAIN takes TRAIN MODEL, EVALUATE MODEL or PREDICT(MODEL ...)");
    };
    return rows(Explain.rows(plan));
  }

  private PhysicalPlan planTraining(SqlTrainModel train, Execution execution) throws SQLException {
    ModelInfo info = models.model(ModelStatements.modelName(train.model()));
    TrainOptions opts = Training.Request.of(train).options();
    long samples = countRows(train.query(), execution);
    return plan(info, trainingRequest(opts, samples, session.settings()));
  }

  /**
   * The plan request for a TRAIN with {@code opts}: planned for what the trainer will run, its
   * {@code threads} option (over the session's {@code SET threads}) and its optimizer's state
   * slots per parameter (SGD with momentum one, without none, Adam two).
   */
  static PlanRequest trainingRequest(TrainOptions opts, long samples, Map<String, String> sessionSettings) {
    Map<String, String> settings = new LinkedHashMap<>(sessionSettings);
    if (opts.threads() > 0) {
      settings.put(PlannerSettings.THREADS, Integer.toString(opts.threads()));
    }
    int slots = switch (opts.optimizer()) {
      case "sgd" -> opts.momentum() > 0 ? 1 : 0;
      default -> ADAM_SLOTS;
    };
    return new PlanRequest(Mode.TRAIN, opts.batchSize(), opts.memoryLimitBytes(), samples, slots,
        PlannerSettings.of(settings));
  }

  private PhysicalPlan planInference(String model, int batch) throws SQLException {
    return plan(models.model(model), PlanRequest.infer(batch, session.settings()));
  }

  /** Plans a run of {@code info} and binds the plan's choices to {@code network}. */
  void bind(ModelInfo info, PlanRequest request, Network network) throws SQLException {
    PlanBinding.apply(plan(info, request), network);
  }

  private PhysicalPlan plan(ModelInfo info, PlanRequest request) throws SQLException {
    NetworkSpec spec = ModelStatements.spec(info);
    MachineProfile machine = Calibration.loadOrMeasure(session.catalog());
    TuningRecords tuning = TuningRecords.of(session.catalog().tuningRecords());
    return Planner.forExecutor().plan(spec, request, machine, tuning);
  }

  /** Rows in the training query, without loading its images. */
  private long countRows(SqlNode query, Execution execution) throws SQLException {
    String table = ModelInputs.plainTableScan(query, session.catalog(), List.of());
    if (table != null) {
      return session.catalog().table(table).orElseThrow().rowCount();
    }
    try (Session.QueryRun run = session.openQuery(query, execution)) {
      ResultSet rs = run.resultSet();
      long n = 0;
      while (rs.next()) {
        n++;
      }
      return n;
    }
  }

  /**
   * Plans the statement, then runs a few batches of it with the plan's choices applied and puts
   * the measured time per operator, time per batch and peak memory beside the estimates.
   */
  private ResultRows explainAnalyze(SqlNode statement, Execution execution) throws SQLException {
    String name;
    PhysicalPlan plan;
    SqlNode query;
    boolean training;
    int batch;
    long seed = 0;
    double labelSmoothing = 0;
    switch (statement) {
      case SqlTrainModel train -> {
        name = ModelStatements.modelName(train.model());
        plan = planTraining(train, execution);
        TrainOptions opts = Training.Request.of(train).options();
        query = train.query();
        training = true;
        batch = opts.batchSize();
        seed = opts.seed();
        labelSmoothing = opts.labelSmoothing();
      }
      case SqlEvaluateModel evaluate -> {
        name = ModelStatements.modelName(evaluate.model());
        plan = planInference(name, Evaluator.DEFAULT_BATCH);
        query = evaluate.query();
        training = false;
        batch = Evaluator.DEFAULT_BATCH;
      }
      case SqlPredict predict -> {
        name = ModelStatements.modelName(predict.model());
        plan = planInference(name, Inference.BATCH);
        query = predict.query();
        training = false;
        batch = Inference.BATCH;
      }
      default -> throw new UserException("EXPLAIN ANALYZE takes TRAIN MODEL, EVALUATE MODEL or PREDICT(MODEL ...)");
    }
    ModelInfo info = models.model(name);
    Measurement measured;
    try (ModelInputs data = training
            ? session.modelInputs(query, info, execution, "EXPLAIN ANALYZE")
            : unlabelled(query, info, execution)) {
      if (data.size() == 0) {
        throw new UserException("EXPLAIN ANALYZE: the query returned no rows");
      }
      long baseline = MemoryTracker.liveBytes();
      int previousThreads = Parallel.get().threads();
      try (Network network = Network.build(ModelStatements.spec(info), seed)) {
        // The plan's algorithms, threads and, for training, checkpoint schedule run as estimated.
        PlanBinding.apply(plan, network);
        Parallel.setThreads(plan.operators().stream().mapToInt(PlanNode.Operator::threads).max().orElse(previousThreads));
        measured = Measurement.run(network, data.dataset(), Math.min(batch, data.size()), training, labelSmoothing,
            execution, baseline);
      } finally {
        Parallel.setThreads(previousThreads);
      }
    }
    return rows(Explain.rows(plan), measured);
  }

  private ModelInputs unlabelled(SqlNode query, ModelInfo info, Execution execution) throws SQLException {
    try (Session.QueryRun run = session.openQuery(query, execution)) {
      return ModelInputs.load(run, info, false, false, execution, "EXPLAIN ANALYZE");
    }
  }

  private static ResultRows rows(java.util.List<ExplainRow> plan) {
    return rows(plan, null);
  }

  private static ResultRows rows(java.util.List<ExplainRow> plan, Measurement measured) {
    ResultRows.Builder rows = ResultRows.builder()
        .column("id", SqlTypeName.INTEGER)
        .column("operator", SqlTypeName.VARCHAR)
        .column("name", SqlTypeName.VARCHAR)
        .column("algorithm", SqlTypeName.VARCHAR)
        .column("layout", SqlTypeName.VARCHAR)
        .column("conversions", SqlTypeName.VARCHAR)
        .column("fusion", SqlTypeName.VARCHAR)
        .column("precision", SqlTypeName.VARCHAR)
        .column("activation", SqlTypeName.VARCHAR)
        .column("threads", SqlTypeName.INTEGER)
        .column("est_ms", SqlTypeName.DOUBLE)
        .column("est_memory_bytes", SqlTypeName.BIGINT);
    if (measured != null) {
      rows.column("measured_ms", SqlTypeName.DOUBLE).column("measured_memory_bytes", SqlTypeName.BIGINT);
    }
    for (ExplainRow r : plan) {
      Object[] values = {r.id(), INDENT.repeat(Math.max(0, r.depth())) + r.operator(), r.name(), r.algorithm(),
          r.layout(), r.conversions(), r.fusion(), r.precision(), r.residency(), r.threads(), r.estimatedMs(),
          r.estimatedBytes()};
      if (measured != null) {
        values = java.util.Arrays.copyOf(values, values.length + 2);
        values[values.length - 2] = measured.millisFor(r);
        values[values.length - 1] = measured.bytesFor(r);
      }
      rows.row(values);
    }
    return rows.build();
  }

  /**
   * Times every candidate kernel (algorithm x layout) for each layer shape of the model, and the
   * layout conversions between them, and stores the records. Options: {@code batch_size}, {@code
   * threads}, {@code runs} (timed runs per measurement, the median is kept) and {@code skip_factor}
   * (candidates the roofline puts more than this many times behind the best are not timed; one row
   * each says so).
   */
  ResultRows analyze(SqlAnalyzeModel analyze, Execution execution) throws SQLException {
    ModelInfo info = models.model(ModelStatements.modelName(analyze.model()));
    Map<String, Object> options = new LinkedHashMap<>(analyze.options());
    int batch = positiveInt(options.remove("batch_size"), Analyzer.Settings.DEFAULT_BATCH, "batch_size");
    int threads = positiveInt(options.remove("threads"), Parallel.get().threads(), "threads");
    int runs = positiveInt(options.remove("runs"), Analyzer.Settings.DEFAULT_RUNS, "runs");
    double skipFactor = factor(options.remove("skip_factor"), Analyzer.Settings.DEFAULT_SKIP_FACTOR);
    if (!options.isEmpty()) {
      throw new UserException("unknown ANALYZE MODEL option " + options.keySet()
          + "; known options: batch_size, threads, runs, skip_factor");
    }
    NetworkSpec spec = ModelStatements.spec(info);
    Analyzer analyzer = new Analyzer(KernelRegistry.executable(), Calibration.loadOrMeasure(session.catalog()));
    Analyzer.Settings settings = new Analyzer.Settings(batch, threads, runs, skipFactor);
    Map<String, Map<String, String>> records = new LinkedHashMap<>();
    List<Analyzer.Skipped> skipped = new java.util.ArrayList<>();
    for (Mode mode : Mode.values()) {
      execution.report(new Execution.Progress("analyzing " + mode.name().toLowerCase(java.util.Locale.ROOT),
          info.name(), 0, 0, 0, 0, Double.NaN, 0, Double.NaN));
      Analyzer.Analysis analysis = analyzer.analyze(spec, mode, settings);
      records.putAll(analysis.records());
      skipped.addAll(analysis.skipped());
      execution.checkCancelled();
    }
    session.catalog().putTuningRecords(records);
    ResultRows.Builder rows = ResultRows.builder()
        .column("kernel", SqlTypeName.VARCHAR)
        .column("ms_per_batch", SqlTypeName.DOUBLE)
        .column("batch", SqlTypeName.INTEGER)
        .column("note", SqlTypeName.VARCHAR);
    records.forEach((key, value) -> {
      double nanos = Double.parseDouble(value.getOrDefault(TuningRecords.NANOS_PER_SAMPLE, "NaN"));
      int b = Integer.parseInt(value.getOrDefault(TuningRecords.BATCH, Integer.toString(batch)));
      rows.row(key, nanos * b / NANOS_PER_MILLI, b, null);
    });
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Analyzer.Skipped s : skipped) {
      if (seen.add(s.node() + " " + s.implementation())) {
        rows.row(s.node() + " " + s.implementation(), null, null, "not timed: " + s.reason());
      }
    }
    return rows.build();
  }

  private static double factor(Object value, double fallback) {
    if (value == null) {
      return fallback;
    }
    if (value instanceof Number n && n.doubleValue() >= 1) {
      return n.doubleValue();
    }
    throw new UserException("ANALYZE MODEL option skip_factor must be a number of at least 1, got " + value);
  }

  private static int positiveInt(Object value, int fallback, String name) {
    if (value == null) {
      return fallback;
    }
    if (value instanceof Integer i && i > 0) {
      return i;
    }
    throw new UserException("ANALYZE MODEL option " + name + " must be a positive integer, got " + value);
  }
}
