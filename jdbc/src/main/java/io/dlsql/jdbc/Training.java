package io.dlsql.jdbc;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.Checkpoint;
import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.ModelStatus;
import io.dlsql.catalog.TrainingLogRow;
import io.dlsql.catalog.UserException;
import io.dlsql.catalog.WeightSet;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.train.BatchProgress;
import io.dlsql.executor.train.EpochStats;
import io.dlsql.executor.train.TrainListener;
import io.dlsql.executor.train.TrainOptions;
import io.dlsql.executor.train.TrainResult;
import io.dlsql.executor.train.TrainState;
import io.dlsql.executor.train.Trainer;
import io.dlsql.executor.train.TrainingDivergedException;
import io.dlsql.parser.SqlTrainModel;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * TRAIN MODEL: loads the training query's rows, trains through the executor's {@link Trainer},
 * writes a resumable checkpoint and a {@code sys.training_log} row after every epoch, and
 * commits the trained weights when the run ends. Returns one row per epoch.
 */
final class Training {
  /** Session-level TRAIN options, handled here rather than by the trainer. */
  private static final String RESUME = "resume";
  private static final String RESET = "reset";
  static final String RUN_ID = "run_id";
  private static final String EPOCHS_BEFORE = "epochs_before";
  private static final double BYTES_PER_MB = 1024.0 * 1024.0;

  private final Session session;
  private final ModelStatements models;

  Training(Session session) {
    this.session = session;
    this.models = new ModelStatements(session);
  }

  private Catalog catalog() {
    return session.catalog();
  }

  ResultRows train(SqlTrainModel train, String sql, Execution execution) throws SQLException {
    String name = ModelStatements.modelName(train.model());
    ModelInfo info = models.model(name);
    Request request = Request.of(train);
    TrainOptions opts = request.options();
    boolean resume = request.resume();
    boolean reset = request.reset();
    NetworkSpec spec = ModelStatements.spec(info);
    execution.report(new Execution.Progress("loading data", name, 0, opts.epochs(), 0, 0, Double.NaN, 0, Double.NaN));
    ResultRows.Builder result = ResultRows.builder()
        .column("epoch", SqlTypeName.INTEGER)
        .column("train_loss", SqlTypeName.DOUBLE)
        .column("train_accuracy", SqlTypeName.DOUBLE)
        .column("val_loss", SqlTypeName.DOUBLE)
        .column("val_accuracy", SqlTypeName.DOUBLE)
        .column("learning_rate", SqlTypeName.DOUBLE)
        .column("seconds", SqlTypeName.DOUBLE)
        .column("images_per_sec", SqlTypeName.DOUBLE)
        .column("peak_memory_mb", SqlTypeName.DOUBLE);
    try (ModelInputs data = session.modelInputs(train.query(), info, execution, "TRAIN MODEL " + name);
        Network network = Network.build(spec, opts.seed())) {
      if (data.size() == 0) {
        throw new UserException("TRAIN MODEL " + name + ": the training query returned no rows");
      }
      // The plan's algorithms and, under memory_limit, its checkpoint schedule.
      new Planning(session).bind(info, Planning.trainingRequest(opts, data.size(), session.settings()), network);
      TrainState resumeFrom = null;
      String runId = UUID.randomUUID().toString();
      int epochsBefore = info.epochsTrained();
      if (resume) {
        Checkpoint checkpoint = catalog().checkpoint(name).orElseThrow(() -> new UserException(
            "TRAIN MODEL " + name + ": there is no interrupted training run to resume"));
        resumeFrom = TrainState.fromExport(ModelStatements.floats(checkpoint.state()), shapes(checkpoint.state()), checkpoint.meta());
        runId = checkpoint.meta().getOrDefault(RUN_ID, runId);
        epochsBefore = Integer.parseInt(checkpoint.meta().getOrDefault(EPOCHS_BEFORE, Integer.toString(epochsBefore)));
        replayMissingLogRow(checkpoint);
        if (resumeFrom.epochsCompleted() >= opts.epochs()) {
          throw new UserException("TRAIN MODEL " + name + ": the interrupted run already completed "
              + resumeFrom.epochsCompleted() + " of " + opts.epochs() + " epochs; ask for more epochs to resume");
        }
      } else if (reset) {
        epochsBefore = 0;
      } else if (info.status() == ModelStatus.TRAINED) {
        network.loadStateDict(ModelStatements.floats(catalog().loadWeights(name)));
      }
      final String run0 = runId;
      final int before = epochsBefore;
      TrainListener listener = new TrainListener() {
        @Override
        public void onBatch(BatchProgress p) {
          execution.report(new Execution.Progress("training", name, p.epoch(), p.epochs(), p.batch(), p.batches(),
              p.loss(), p.imagesPerSec(), p.etaSeconds()));
        }

        @Override
        public void onEpoch(EpochStats s, TrainState state) {
          Map<String, String> meta = new LinkedHashMap<>(state.toMetadata());
          meta.put(RUN_ID, run0);
          meta.put(EPOCHS_BEFORE, Integer.toString(before));
          TrainingLogRow logRow = new TrainingLogRow(name, run0, before + s.epoch(), s.trainLoss(), s.trainAccuracy(),
              s.hasValidation() ? s.valLoss() : null, s.hasValidation() ? s.valAccuracy() : null, s.learningRate(),
              s.seconds(), s.imagesPerSec(), s.peakMemoryBytes(), Instant.now());
          meta.putAll(LogRowCodec.encode(logRow));
          // The checkpoint carries its epoch's log row, so a crash between the two writes is
          // repaired on resume (see replayMissingLogRow).
          catalog().saveCheckpoint(name, s.epoch(), ModelStatements.weightSet(state.toTensors(), state.shapes()), meta);
          catalog().appendTrainingLog(logRow);
          result.row(before + s.epoch(), s.trainLoss(), s.trainAccuracy(),
              s.hasValidation() ? s.valLoss() : null, s.hasValidation() ? s.valAccuracy() : null,
              s.learningRate(), s.seconds(), s.imagesPerSec(), s.peakMemoryBytes() / BYTES_PER_MB);
        }
      };
      TrainResult trained;
      try {
        trained = new Trainer().fit(network, data.dataset(), null, opts, listener, execution::isCancelled, resumeFrom);
      } catch (TrainingDivergedException e) {
        int good = e.lastGoodEpoch();
        String what = "TRAIN MODEL " + name + ": the loss became " + e.loss() + " in epoch " + (before + e.epoch())
            + ", batch " + e.batch() + "; training stopped and ";
        String advice = ". Lower learning_rate or set clip_norm.";
        if (good >= 1 && e.lastGoodState() != null) {
          save(info, e.lastGoodState().weights(), e.lastGoodState().weightShapes(), before + good, null, spec);
          throw new UserException(what + "model '" + name + "' keeps the weights of epoch " + (before + good) + advice, e);
        }
        throw new UserException(what + "model '" + name + "' is unchanged" + advice, e);
      }
      var history = trained.history();
      Double lastLoss = history.isEmpty() ? info.lastTrainLoss() : history.getLast().trainLoss();
      Long peak = history.stream().mapToLong(EpochStats::peakMemoryBytes).max().stream().boxed().findFirst().orElse(null);
      int epochs = before + trained.finalState().epochsCompleted();
      save(info, network.stateDict(), network.shapes(), epochs, lastLoss, spec, peak);
      catalog().deleteCheckpoint(name);
      return result.build();
    }
  }

  /** Appends the checkpoint's epoch row to the training log if a crash kept it from being written. */
  private void replayMissingLogRow(Checkpoint checkpoint) {
    TrainingLogRow row = LogRowCodec.decode(checkpoint.model(), checkpoint.meta());
    if (row == null) {
      return;
    }
    boolean logged = catalog().trainingLog().stream()
        .anyMatch(r -> r.runId().equals(row.runId()) && r.epoch() == row.epoch());
    if (!logged) {
      catalog().appendTrainingLog(row);
    }
  }

  private void save(ModelInfo info, Map<String, float[]> weights, Map<String, int[]> shapes, int epochs,
      Double lastLoss, NetworkSpec spec) {
    save(info, weights, shapes, epochs, lastLoss, spec, info.peakMemoryBytes());
  }

  private void save(ModelInfo info, Map<String, float[]> weights, Map<String, int[]> shapes, int epochs,
      Double lastLoss, NetworkSpec spec, Long peak) {
    WeightSet set = ModelStatements.weightSet(weights, shapes);
    ModelInfo updated = info.toBuilder()
        .status(ModelStatus.TRAINED)
        .kind("trained")
        .epochsTrained(epochs)
        .lastTrainLoss(lastLoss)
        .accuracy(null)
        .loss(null)
        .peakMemoryBytes(peak)
        .build();
    catalog().saveModel(updated, set);
  }

  private static Map<String, int[]> shapes(WeightSet set) {
    Map<String, int[]> shapes = new LinkedHashMap<>();
    set.arrays().forEach((k, v) -> shapes.put(k, v.shape()));
    return shapes;
  }

  /** A TRAIN statement's WITH options: the trainer's, plus the session's resume and reset. */
  record Request(TrainOptions options, boolean resume, boolean reset) {
    static Request of(SqlTrainModel train) {
      Map<String, Object> options = new LinkedHashMap<>(train.options());
      boolean resume = flag(options, RESUME);
      boolean reset = flag(options, RESET);
      return new Request(TrainOptions.fromMap(options), resume, reset);
    }
  }

  private static boolean flag(Map<String, Object> options, String key) {
    Object value = options.remove(key);
    if (value == null) {
      return false;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    throw new UserException("option '" + key + "' must be TRUE or FALSE, got " + value);
  }
}
