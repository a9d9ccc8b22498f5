package io.dlsql.executor.train;

/**
 * Accuracy, mean cross-entropy and the confusion matrix ({@code confusion[true][predicted]}) of a
 * model over a labelled dataset, in evaluation mode.
 */
public record EvaluationResult(long count, double accuracy, double meanLoss, long[][] confusion) {
  public int classes() {
    return confusion.length;
  }

  /** Of the samples predicted as {@code c}, the fraction that are {@code c} (NaN if none). */
  public double precision(int c) {
    long predicted = 0;
    for (long[] row : confusion) {
      predicted += row[c];
    }
    return predicted == 0 ? Double.NaN : (double) confusion[c][c] / predicted;
  }

  /** Of the samples of class {@code c}, the fraction predicted as {@code c} (NaN if none). */
  public double recall(int c) {
    long actual = 0;
    for (long v : confusion[c]) {
      actual += v;
    }
    return actual == 0 ? Double.NaN : (double) confusion[c][c] / actual;
  }

  /** Samples of class {@code c}. */
  public long support(int c) {
    long actual = 0;
    for (long v : confusion[c]) {
      actual += v;
    }
    return actual;
  }
}
