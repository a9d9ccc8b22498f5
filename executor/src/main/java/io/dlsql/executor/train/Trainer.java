package io.dlsql.executor.train;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.optim.GradientClipping;
import io.dlsql.executor.optim.LearningRateSchedule;
import io.dlsql.executor.optim.Optimizer;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.MemoryTracker;
import io.dlsql.executor.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

/**
 * The training loop: per epoch a permutation of the training samples drawn from the seed, batches
 * loaded one ahead on a background thread, forward, softmax cross-entropy, backward, optional
 * gradient clipping, an optimizer step at the scheduled learning rate; then validation, early
 * stopping and the epoch callback with a resumable {@link TrainState}. A NaN/infinite loss or a
 * cancellation puts the weights back to the end of the last completed epoch and throws.
 */
public final class Trainer {
  private static final long SPLIT_STREAM = 0x73706c6974L;
  private static final long SHUFFLE_STREAM = 0x73687566L;
  private static final long STEP_STREAM = 0x73746570L;
  private static final String BEST_ACCURACY = "best_val_accuracy";
  private static final String BEST_EPOCH = "best_epoch";
  private static final String SEED = "seed";

  /**
   * Trains {@code net} in place. {@code validation} may be null (then the {@code validation}
   * fraction of {@code train}, if any, is held out); {@code resume} may be null, or a state from
   * an earlier run with the same options to continue from.
   */
  public TrainResult fit(
      Network net,
      Dataset train,
      Dataset validation,
      TrainOptions opts,
      TrainListener listener,
      BooleanSupplier cancelled,
      TrainState resume) {
    int previousThreads = Parallel.get().threads();
    if (opts.threads() > 0) {
      Parallel.setThreads(opts.threads());
    }
    try {
      return run(net, train, validation, opts, listener == null ? TrainListener.NONE : listener,
          cancelled == null ? () -> false : cancelled, resume);
    } finally {
      if (opts.threads() > 0) {
        Parallel.setThreads(previousThreads);
      }
    }
  }

  private TrainResult run(
      Network net, Dataset train, Dataset validation, TrainOptions opts, TrainListener listener,
      BooleanSupplier cancelled, TrainState resume) {
    Evaluator.checkShape(net, train);
    if (!train.hasLabels()) {
      throw new UserException("training needs labelled data");
    }
    if (validation != null) {
      Evaluator.checkShape(net, validation);
    }
    // Which samples train and which validate.
    int[] trainIndices;
    int[] valIndices = null;
    Dataset valData = validation;
    if (validation == null && opts.validation() > 0) {
      int[] perm = new int[train.size()];
      Rng.derive(opts.seed(), SPLIT_STREAM).permutation(perm);
      int valCount = Math.max(1, (int) Math.round(train.size() * opts.validation()));
      if (valCount >= train.size()) {
        throw new UserException(
            "validation = " + opts.validation() + " leaves no training samples out of " + train.size());
      }
      trainIndices = java.util.Arrays.copyOf(perm, train.size() - valCount);
      valIndices = java.util.Arrays.copyOfRange(perm, train.size() - valCount, train.size());
      valData = train;
    } else {
      trainIndices = IntStream.range(0, train.size()).toArray();
      if (validation != null) {
        valIndices = IntStream.range(0, validation.size()).toArray();
      }
    }
    if (trainIndices.length == 0) {
      throw new UserException("no training samples");
    }
    if (opts.earlyStopping() > 0 && valIndices == null) {
      throw new UserException("early_stopping needs validation data (set validation = 0.1, for example)");
    }

    int classes = net.spec().classes();
    int batchSize = Math.min(opts.batchSize(), trainIndices.length);
    List<Parameter> params = net.parameters();
    LearningRateSchedule schedule = opts.createSchedule();
    SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(opts.labelSmoothing());
    int[] shape = train.sampleShape();
    Augmentation augmentation = opts.augment()
        ? new Augmentation(shape, opts.cropPadding(), opts.flip())
        : null;
    if (augmentation != null && shape.length != 3) {
      throw new UserException("augment needs image samples (channels, height, width)");
    }

    try (Optimizer optimizer = opts.createOptimizer();
        Tensor grad = Tensor.zeros(batchSize, classes);
        BatchLoader loader = new BatchLoader(train, batchSize, augmentation)) {
      int startEpoch = 0;
      double bestAccuracy = Double.NEGATIVE_INFINITY;
      int bestEpoch = 0;
      if (resume != null) {
        if (resume.epochsCompleted() > opts.epochs()) {
          throw new UserException(
              "the checkpoint has " + resume.epochsCompleted() + " epochs, more than epochs = " + opts.epochs());
        }
        net.loadStateDict(resume.weights());
        optimizer.loadState(resume.optimizerState(), optimizerMetadata(resume.metadata()));
        startEpoch = resume.epochsCompleted();
        bestAccuracy = Double.parseDouble(resume.metadata().getOrDefault(BEST_ACCURACY, "-Infinity"));
        bestEpoch = Integer.parseInt(resume.metadata().getOrDefault(BEST_EPOCH, "0"));
      }
      TrainState last = snapshot(net, optimizer, startEpoch, opts, bestAccuracy, bestEpoch);
      List<EpochStats> history = new ArrayList<>();
      boolean stoppedEarly = false;
      int batches = loader.batches(trainIndices.length);
      int[] order = trainIndices.clone();
      for (int epoch = startEpoch; epoch < opts.epochs(); epoch++) {
        System.arraycopy(trainIndices, 0, order, 0, order.length);
        if (opts.shuffle()) {
          Rng.derive(opts.seed(), SHUFFLE_STREAM, epoch).shuffle(order);
        }
        MemoryTracker.resetPeak();
        long started = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        double lr = schedule.rate(epoch, 0, batches);
        Tensor gradView = grad;
        loader.start(order, order.length, opts.seed(), epoch);
        for (int b = 0; b < batches; b++) {
          if (cancelled.getAsBoolean()) {
            restore(net, optimizer, last);
            throw new TrainingCancelledException(last.epochsCompleted(), last);
          }
          BatchLoader.Batch batch = loader.next();
          int n = batch.count();
          if (gradView.dim(0) != n) {
            gradView = grad.slice(0, n);
          }
          lr = schedule.rate(epoch, b, batches);
          net.setStepSeed(Rng.mix(opts.seed(), STEP_STREAM, epoch, b));
          Tensor logits = net.forward(batch.images(), true);
          double batchLoss = loss.forward(logits, batch.labels(), n, gradView);
          if (!Double.isFinite(batchLoss)) {
            restore(net, optimizer, last);
            throw new TrainingDivergedException(epoch + 1, b + 1, batchLoss, last.epochsCompleted(), last);
          }
          correct += SoftmaxCrossEntropy.correct(logits, batch.labels(), n);
          net.backward(gradView);
          if (opts.clipNorm() > 0) {
            GradientClipping.clipByGlobalNorm(params, opts.clipNorm());
          }
          optimizer.step(params, lr);
          lossSum += batchLoss * n;
          seen += n;
          double elapsed = (System.nanoTime() - started) / 1e9;
          double rate = seen / Math.max(elapsed, 1e-9);
          long remaining = (long) (batches - b - 1) * batchSize + (long) (opts.epochs() - epoch - 1) * trainIndices.length;
          listener.onBatch(new BatchProgress(
              epoch + 1, opts.epochs(), b + 1, batches, batchLoss, rate, remaining / rate));
        }
        double valLoss = Double.NaN;
        double valAccuracy = Double.NaN;
        if (valIndices != null) {
          EvaluationResult r = Evaluator.evaluate(net, valData, valIndices, Evaluator.DEFAULT_BATCH);
          valLoss = r.meanLoss();
          valAccuracy = r.accuracy();
          if (valAccuracy > bestAccuracy) {
            bestAccuracy = valAccuracy;
            bestEpoch = epoch + 1;
          }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        EpochStats stats = new EpochStats(
            epoch + 1, lossSum / seen, (double) correct / seen, valLoss, valAccuracy, lr, seconds,
            seen / Math.max(seconds, 1e-9), MemoryTracker.peakBytes());
        history.add(stats);
        last = snapshot(net, optimizer, epoch + 1, opts, bestAccuracy, bestEpoch);
        listener.onEpoch(stats, last);
        if (opts.earlyStopping() > 0 && epoch + 1 - bestEpoch >= opts.earlyStopping()) {
          stoppedEarly = epoch + 1 < opts.epochs();
          break;
        }
      }
      return new TrainResult(history, stoppedEarly, bestEpoch, last);
    }
  }

  private static Map<String, String> optimizerMetadata(Map<String, String> metadata) {
    Map<String, String> out = new LinkedHashMap<>();
    metadata.forEach((k, v) -> {
      if (k.startsWith("optimizer.")) {
        out.put(k.substring("optimizer.".length()), v);
      }
    });
    return out;
  }

  private static TrainState snapshot(
      Network net, Optimizer optimizer, int epochsCompleted, TrainOptions opts, double bestAccuracy,
      int bestEpoch) {
    LinkedHashMap<String, String> meta = new LinkedHashMap<>();
    optimizer.metadata().forEach((k, v) -> meta.put("optimizer." + k, v));
    meta.put(SEED, Long.toString(opts.seed()));
    meta.put(BEST_ACCURACY, Double.toString(bestAccuracy));
    meta.put(BEST_EPOCH, Integer.toString(bestEpoch));
    return new TrainState(epochsCompleted, net.stateDict(), net.shapes(), optimizer.state(), meta);
  }

  private static void restore(Network net, Optimizer optimizer, TrainState state) {
    net.loadStateDict(state.weights());
    optimizer.loadState(state.optimizerState(), optimizerMetadata(state.metadata()));
  }
}
