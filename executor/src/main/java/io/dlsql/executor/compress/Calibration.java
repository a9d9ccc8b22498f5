package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.Dataset;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Activation ranges for static quantization, from running the fp32 model over calibration batches:
 * per observed tensor, {@code max |x|} over all batches ({@link Method#MINMAX}), or the mean over
 * batches of a percentile of {@code |x|} ({@link Method#PERCENTILE}), which ignores rare outliers
 * that would otherwise stretch the int8 grid.
 */
public final class Calibration {
  private Calibration() {}

  /** How a range is taken from the observed values. */
  public enum Method {
    MINMAX,
    PERCENTILE
  }

  /** Values per batch and tensor a percentile is taken over (evenly strided), bounding the sort. */
  static final int PERCENTILE_SAMPLE = 1 << 16;

  /**
   * Calibration settings.
   *
   * @param percentile in (0, 100], used by {@link Method#PERCENTILE}
   * @param batchSize rows per calibration batch
   */
  public record Options(Method method, double percentile, int batchSize) {
    public static final double DEFAULT_PERCENTILE = 99.99;
    public static final int DEFAULT_BATCH = 256;
    /** The {@code WITH} keys {@link #fromMap} accepts. */
    public static final Set<String> KNOWN = Set.of("calibration", "percentile", "calibration_batch_size");

    public Options {
      if (method == null) {
        throw new UserException("calibration method must be 'minmax' or 'percentile'");
      }
      if (!(percentile > 0 && percentile <= 100)) {
        throw new UserException("percentile must be in (0, 100], got " + percentile);
      }
      if (batchSize < 1) {
        throw new UserException("calibration_batch_size must be at least 1, got " + batchSize);
      }
    }

    public static Options defaults() {
      return new Options(Method.MINMAX, DEFAULT_PERCENTILE, DEFAULT_BATCH);
    }

    /**
     * Reads {@code calibration = 'minmax' | 'percentile'}, {@code percentile = 99.99} and {@code
     * calibration_batch_size = 256} (keys case-insensitive); other keys are left for the caller.
     */
    public static Options fromMap(Map<String, Object> options) {
      Method method = Method.MINMAX;
      double percentile = DEFAULT_PERCENTILE;
      int batch = DEFAULT_BATCH;
      for (Map.Entry<String, Object> e : options.entrySet()) {
        String key = e.getKey().toLowerCase(Locale.ROOT);
        Object v = e.getValue();
        switch (key) {
          case "calibration" -> {
            String s = String.valueOf(v).toUpperCase(Locale.ROOT);
            try {
              method = Method.valueOf(s);
            } catch (IllegalArgumentException ex) {
              throw new UserException("calibration must be 'minmax' or 'percentile', got '" + v + "'");
            }
          }
          case "percentile" -> percentile = number(key, v);
          case "calibration_batch_size" -> {
            double d = number(key, v);
            if (d != Math.rint(d) || d < 1 || d > Integer.MAX_VALUE) {
              throw new UserException("calibration_batch_size must be a positive integer, got " + v);
            }
            batch = (int) d;
          }
          default -> { }
        }
      }
      return new Options(method, percentile, batch);
    }
  }

  static double number(String key, Object v) {
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw new UserException(key + " must be a number, got " + v);
  }

  /**
   * Runs {@code executor} over all of {@code data} and returns the range of each tensor in {@code
   * observed} (indices as {@link GraphExecutor.Observer} sees them: -1 the input, i node i),
   * indexed by {@code index + 1}; tensors not observed get 0.
   */
  static double[] ranges(GraphExecutor executor, Dataset data, boolean[] observed, Options options) {
    if (data.size() == 0) {
      throw new UserException("calibration needs at least one row; the calibration data is empty");
    }
    int[] expect = executor.spec().inputShape();
    if (!Arrays.equals(expect, data.sampleShape())) {
      throw new UserException(
          "the model takes images of shape " + Arrays.toString(expect) + " but the calibration data has "
              + Arrays.toString(data.sampleShape()));
    }
    int slots = observed.length;
    double[] max = new double[slots];
    double[] percentileSum = new double[slots];
    int batch = Math.min(options.batchSize(), data.size());
    int[] shape = new int[expect.length + 1];
    shape[0] = batch;
    System.arraycopy(expect, 0, shape, 1, expect.length);
    int[] indices = new int[data.size()];
    Arrays.setAll(indices, i -> i);
    try (Tensor buffer = Tensor.zeros(shape)) {
      for (int from = 0; from < data.size(); from += batch) {
        int count = Math.min(batch, data.size() - from);
        Tensor x = buffer.slice(0, count);
        data.load(indices, from, count, x, null);
        int rows = count;
        executor.forward(x, (index, output) -> {
          int slot = index + 1;
          if (!observed[slot]) {
            return;
          }
          max[slot] = Math.max(max[slot], maxAbs(output));
          if (options.method() == Method.PERCENTILE) {
            percentileSum[slot] += percentileAbs(output, options.percentile()) * rows;
          }
        });
      }
    }
    if (options.method() == Method.MINMAX) {
      return max;
    }
    double[] out = new double[slots];
    for (int s = 0; s < slots; s++) {
      out[s] = percentileSum[s] / data.size();
    }
    return out;
  }

  static double maxAbs(Tensor t) {
    double m = 0;
    for (long i = 0; i < t.numel(); i++) {
      m = Math.max(m, Math.abs(t.getFlat(i)));
    }
    return m;
  }

  /** The {@code p}-th percentile of |x| over an evenly strided sample of at most {@link #PERCENTILE_SAMPLE} values. */
  static double percentileAbs(Tensor t, double p) {
    long n = t.numel();
    long stride = Math.max(1, Math.ceilDiv(n, PERCENTILE_SAMPLE));
    int count = (int) Math.ceilDiv(n, stride);
    float[] sample = new float[count];
    for (int i = 0; i < count; i++) {
      sample[i] = Math.abs(t.getFlat(i * stride));
    }
    Arrays.sort(sample);
    int rank = (int) Math.min(count - 1, Math.max(0, Math.ceil(p / 100 * count) - 1));
    return sample[rank];
  }

  /** The option names {@link Options#fromMap} reads, for error messages listing every known option. */
  public static String knownOptions() {
    return String.join(", ", new TreeSet<>(Options.KNOWN));
  }
}
