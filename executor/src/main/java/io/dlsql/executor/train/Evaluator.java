package io.dlsql.executor.train;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.tensor.Tensor;
import java.util.Arrays;
import java.util.stream.IntStream;

/** Evaluates a network on labelled data, in batches, in evaluation mode (no dropout, running batchnorm statistics). */
public final class Evaluator {
  /** Batch size when none is given. */
  public static final int DEFAULT_BATCH = 256;

  private Evaluator() {}

  public static EvaluationResult evaluate(Network net, Dataset data) {
    return evaluate(net, data, DEFAULT_BATCH);
  }

  public static EvaluationResult evaluate(Network net, Dataset data, int batchSize) {
    return evaluate(net, data, IntStream.range(0, data.size()).toArray(), batchSize);
  }

  /** Evaluates the samples {@code indices} of {@code data}. */
  static EvaluationResult evaluate(Network net, Dataset data, int[] indices, int batchSize) {
    if (!data.hasLabels()) {
      throw new UserException("evaluation needs labelled data");
    }
    checkShape(net, data);
    if (indices.length == 0) {
      throw new UserException("nothing to evaluate: the data is empty");
    }
    int classes = net.spec().classes();
    long[][] confusion = new long[classes][classes];
    SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0);
    double lossSum = 0;
    long correct = 0;
    int batch = Math.min(batchSize, indices.length);
    try (BatchLoader loader = new BatchLoader(data, batch, null)) {
      loader.start(indices, indices.length, 0, 0);
      for (int b = 0; b < loader.batches(indices.length); b++) {
        BatchLoader.Batch next = loader.next();
        Tensor logits = net.forward(next.images(), false);
        lossSum += loss.forward(logits, next.labels(), next.count(), null) * next.count();
        for (int r = 0; r < next.count(); r++) {
          int predicted = SoftmaxCrossEntropy.argmax(logits, r, classes);
          int actual = next.labels()[r];
          confusion[actual][predicted]++;
          if (predicted == actual) {
            correct++;
          }
        }
      }
    }
    return new EvaluationResult(
        indices.length, (double) correct / indices.length, lossSum / indices.length, confusion);
  }

  static void checkShape(Network net, Dataset data) {
    if (!Arrays.equals(net.spec().inputShape(), data.sampleShape())) {
      throw new UserException(
          "the model takes images of shape " + Arrays.toString(net.spec().inputShape())
              + " but the data has " + Arrays.toString(data.sampleShape()));
    }
  }
}
