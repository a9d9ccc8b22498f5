package io.dlsql.executor.train;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/** Runs a network over a dataset in batches, in evaluation mode, producing logits or softmax probabilities. */
public final class Predictor {
  private Predictor() {}

  /** Receives each batch's outputs: rows {@code first .. first+count) of the dataset, output (count, classes). */
  @FunctionalInterface
  public interface Sink {
    void accept(int first, int count, Tensor outputs);
  }

  /** All outputs as one row-major array (size x classes). */
  public static float[] predict(Network net, Dataset data, int batchSize, boolean probabilities) {
    int classes = net.spec().classes();
    long total = (long) data.size() * classes;
    if (total > Integer.MAX_VALUE - 8) {
      throw new UserException("too many predictions for one array; use the streaming predict");
    }
    float[] out = new float[(int) total];
    predict(net, data, batchSize, probabilities, (first, count, outputs) ->
        MemorySegment.copy(outputs.segment(), F32, 0, out, first * classes, count * classes));
    return out;
  }

  /** Streams the outputs batch by batch to {@code sink}. */
  public static void predict(Network net, Dataset data, int batchSize, boolean probabilities, Sink sink) {
    Evaluator.checkShape(net, data);
    if (batchSize < 1) {
      throw new UserException("batch_size must be at least 1, got " + batchSize);
    }
    int n = data.size();
    if (n == 0) {
      return;
    }
    int[] indices = IntStream.range(0, n).toArray();
    int classes = net.spec().classes();
    int batch = Math.min(batchSize, n);
    try (BatchLoader loader = new BatchLoader(data, batch, null)) {
      loader.start(indices, n, 0, 0);
      for (int b = 0; b < loader.batches(n); b++) {
        BatchLoader.Batch next = loader.next();
        Tensor logits = net.forward(next.images(), false);
        if (probabilities) {
          softmaxInPlace(logits, next.count(), classes);
        }
        sink.accept(b * batch, next.count(), logits);
      }
    }
  }

  /** Row-wise softmax, max-subtracted, in double precision. */
  static void softmaxInPlace(Tensor logits, int rows, int classes) {
    MemorySegment z = logits.segment();
    for (int r = 0; r < rows; r++) {
      long row = (long) r * classes;
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < classes; j++) {
        max = Math.max(max, z.getAtIndex(F32, row + j));
      }
      double sum = 0;
      for (int j = 0; j < classes; j++) {
        sum += Math.exp(z.getAtIndex(F32, row + j) - max);
      }
      for (int j = 0; j < classes; j++) {
        z.setAtIndex(F32, row + j, (float) (Math.exp(z.getAtIndex(F32, row + j) - max) / sum));
      }
    }
  }
}
