package io.dlsql.jdbc;

import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.WeightSet;
import io.dlsql.executor.compress.Inference;
import io.dlsql.executor.compress.InferenceModel;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.train.InMemoryDataset;
import io.dlsql.planner.PlanRequest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * The speed figures {@code sys.models} records for a variant: latency (milliseconds for one image
 * at batch 1, the median of several runs) and throughput (images per second at batch 256, the
 * median of a few batches), each after untimed warm-up runs until their times settle, on
 * synthetic images of the model's input shape (inference time does not depend on pixel values).
 * Each batch size is planned as PREDICT plans it. Wall-clock times: on a shared machine compare variants measured back to back.
 *
 * @param latencyMs median milliseconds per image at batch 1
 * @param throughput median images per second at batch {@link #THROUGHPUT_BATCH}
 */
record ModelMetrics(double latencyMs, double throughput) {
  static final int LATENCY_BATCH = 1;
  static final int THROUGHPUT_BATCH = 256;
  /** Few enough to keep COMPRESS quick, enough for a median that ignores one slow run. */
  static final int LATENCY_RUNS = 9;
  static final int THROUGHPUT_RUNS = 3;
  /**
   * Warm-up runs at most: a fresh JVM compiles the kernels during the first runs, so warm-up goes
   * on until two runs in a row agree within {@link #WARM_TOLERANCE}, or this many have run.
   */
  static final int LATENCY_MAX_WARMUP = 20;
  static final int THROUGHPUT_MAX_WARMUP = 4;
  static final double WARM_TOLERANCE = 0.1;
  private static final long SYNTHETIC_SEED = 0x6d657472L;

  /** Measures {@code info} stored as {@code weights} (which need not be in the catalog yet). */
  static ModelMetrics measure(Session session, ModelInfo info, WeightSet weights, Execution execution)
      throws SQLException {
    ModelVariants variants = new ModelVariants(session);
    int[] dims = info.inputDims();
    long elements = Arrays.stream(dims).asLongStream().reduce(1, (a, b) -> a * b);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment values = arena.allocate(ValueLayout.JAVA_FLOAT, THROUGHPUT_BATCH * elements);
      Rng rng = new Rng(SYNTHETIC_SEED);
      for (long i = 0; i < THROUGHPUT_BATCH * elements; i++) {
        values.setAtIndex(ValueLayout.JAVA_FLOAT, i, rng.nextFloat());
      }
      InMemoryDataset images = InMemoryDataset.ofFloat32(values, THROUGHPUT_BATCH, dims, null);
      double throughput;
      try (ModelVariants.Opened model = variants.open(info, weights, PlanRequest.infer(THROUGHPUT_BATCH, session.settings()))) {
        warmUp(model.model(), images, THROUGHPUT_BATCH, THROUGHPUT_MAX_WARMUP, execution);
        double[] rates = new double[THROUGHPUT_RUNS];
        for (int r = 0; r < THROUGHPUT_RUNS; r++) {
          rates[r] = Inference.time(model.model(), images, THROUGHPUT_BATCH, 0, 1).imagesPerSecond();
          execution.checkCancelled();
        }
        throughput = median(rates);
      }
      execution.checkCancelled();
      double latency;
      try (ModelVariants.Opened model = variants.open(info, weights, PlanRequest.infer(LATENCY_BATCH, session.settings()))) {
        warmUp(model.model(), images, LATENCY_BATCH, LATENCY_MAX_WARMUP, execution);
        double[] millis = new double[LATENCY_RUNS];
        for (int r = 0; r < LATENCY_RUNS; r++) {
          millis[r] = Inference.time(model.model(), images, LATENCY_BATCH, 0, 1).millisPerBatch();
        }
        latency = median(millis);
      }
      return new ModelMetrics(latency, throughput);
    }
  }

  /** Measures a model already in the catalog. */
  static ModelMetrics measure(Session session, ModelInfo info, Execution execution) throws SQLException {
    return measure(session, info, session.catalog().loadWeights(info.name()), execution);
  }

  /** Untimed runs until two in a row take times within {@link #WARM_TOLERANCE} of each other, at most {@code max}. */
  private static void warmUp(InferenceModel model, InMemoryDataset images, int batch, int max, Execution execution) {
    double previous = Double.NaN;
    for (int r = 0; r < max; r++) {
      double millis = Inference.time(model, images, batch, 0, 1).millisPerBatch();
      execution.checkCancelled();
      if (Math.abs(millis - previous) <= WARM_TOLERANCE * previous) {
        return;
      }
      previous = millis;
    }
  }

  /** The upper median of {@code values} (the middle one for odd counts). */
  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** The metrics as {@code ModelInfo} fields. */
  ModelInfo applyTo(ModelInfo info) {
    return info.toBuilder().latencyMs(latencyMs).throughput(throughput).build();
  }
}
