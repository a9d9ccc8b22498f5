package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.Dataset;
import io.dlsql.executor.train.EvaluationResult;
import java.util.Arrays;

/**
 * Evaluation and timing of any {@link InferenceModel}, so every variant of a model (fp32, int8,
 * bf16, sparse, pruned, distilled) is measured by the same code: accuracy and loss as {@link
 * io.dlsql.executor.train.Evaluator} computes them, and images per second at a batch size.
 */
public final class Inference {
  private Inference() {}

  /** Images per second and milliseconds per batch of one timing run. */
  public record Timing(int batchSize, int batches, double millisPerBatch, double imagesPerSecond) {}

  /** Accuracy, mean cross-entropy and confusion matrix over labelled {@code data}, in batches. */
  public static EvaluationResult evaluate(InferenceModel model, Dataset data, int batchSize) {
    if (!data.hasLabels()) {
      throw new UserException("evaluation needs labelled data");
    }
    checkShape(model, data);
    if (data.size() == 0) {
      throw new UserException("nothing to evaluate: the data is empty");
    }
    int classes = model.spec().classes();
    long[][] confusion = new long[classes][classes];
    SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0);
    double lossSum = 0;
    long correct = 0;
    int batch = Math.min(batchSize, data.size());
    int[] indices = new int[data.size()];
    Arrays.setAll(indices, i -> i);
    int[] labels = new int[batch];
    try (Tensor buffer = Tensor.zeros(batched(batch, model.spec().inputShape()))) {
      for (int from = 0; from < data.size(); from += batch) {
        int count = Math.min(batch, data.size() - from);
        Tensor x = buffer.slice(0, count);
        data.load(indices, from, count, x, labels);
        Tensor logits = model.forward(x);
        lossSum += loss.forward(logits, labels, count, null) * count;
        for (int r = 0; r < count; r++) {
          int predicted = SoftmaxCrossEntropy.argmax(logits, r, classes);
          confusion[labels[r]][predicted]++;
          if (predicted == labels[r]) {
            correct++;
          }
        }
      }
    }
    return new EvaluationResult(data.size(), (double) correct / data.size(), lossSum / data.size(), confusion);
  }

  /**
   * Times {@code batches} forwards of the first {@code batchSize} rows of {@code data} after
   * {@code warmup} untimed ones (wall clock: on a shared machine compare variants back to back).
   */
  public static Timing time(InferenceModel model, Dataset data, int batchSize, int warmup, int batches) {
    checkShape(model, data);
    if (batchSize < 1 || batches < 1 || warmup < 0) {
      throw new IllegalArgumentException("batch " + batchSize + ", batches " + batches + ", warm-up " + warmup);
    }
    int[] indices = new int[batchSize];
    Arrays.setAll(indices, i -> i % data.size());
    try (Tensor x = Tensor.zeros(batched(batchSize, model.spec().inputShape()))) {
      data.load(indices, 0, batchSize, x, null);
      for (int i = 0; i < warmup; i++) {
        model.forward(x);
      }
      long started = System.nanoTime();
      for (int i = 0; i < batches; i++) {
        model.forward(x);
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      return new Timing(batchSize, batches, seconds * 1e3 / batches, (double) batchSize * batches / seconds);
    }
  }

  static int[] batched(int n, int[] sample) {
    int[] s = new int[sample.length + 1];
    s[0] = n;
    System.arraycopy(sample, 0, s, 1, sample.length);
    return s;
  }

  private static void checkShape(InferenceModel model, Dataset data) {
    if (!Arrays.equals(model.spec().inputShape(), data.sampleShape())) {
      throw new UserException(
          "the model takes images of shape " + Arrays.toString(model.spec().inputShape())
              + " but the data has " + Arrays.toString(data.sampleShape()));
    }
  }
}
