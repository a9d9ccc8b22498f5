package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.Dataset;
import io.dlsql.executor.train.TrainOptions;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Knowledge distillation (Hinton et al. 2015): a student trained on {@code (1 - alpha) *
 * CE(student, labels) + alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))}, averaged
 * over the batch, with the teacher in evaluation mode. The {@code T^2} keeps the soft term's
 * gradient on the scale of the hard term's as T grows.
 */
public final class Distillation {
  private Distillation() {}

  /**
   * The soft-loss settings.
   *
   * @param temperature T, positive
   * @param alpha weight of the soft term, in [0, 1]
   */
  public record Options(double temperature, double alpha) {
    public static final double DEFAULT_TEMPERATURE = 4;
    public static final double DEFAULT_ALPHA = 0.9;

    public Options {
      if (!(temperature > 0) || Double.isInfinite(temperature)) {
        throw new UserException("temperature must be a positive number, got " + temperature);
      }
      if (!(alpha >= 0 && alpha <= 1)) {
        throw new UserException("alpha must be in [0, 1], got " + alpha);
      }
    }

    /** Reads {@code temperature} and {@code alpha} (keys case-insensitive); other keys are left to the caller. */
    public static Options fromMap(Map<String, Object> options) {
      double t = DEFAULT_TEMPERATURE;
      double a = DEFAULT_ALPHA;
      for (Map.Entry<String, Object> e : options.entrySet()) {
        switch (e.getKey().toLowerCase(Locale.ROOT)) {
          case "temperature" -> t = Calibration.number("temperature", e.getValue());
          case "alpha" -> a = Calibration.number("alpha", e.getValue());
          default -> { }
        }
      }
      return new Options(t, a);
    }
  }

  /** Rejects a student that cannot learn from the teacher: another input shape or class count. */
  public static void checkCompatible(NetworkSpec teacher, NetworkSpec student) {
    if (!Arrays.equals(teacher.inputShape(), student.inputShape())) {
      throw new UserException("the student takes inputs of shape " + Arrays.toString(student.inputShape())
          + " but the teacher takes " + Arrays.toString(teacher.inputShape()));
    }
    if (teacher.classes() != student.classes()) {
      throw new UserException("the student has " + student.classes() + " classes but the teacher has "
          + teacher.classes());
    }
  }

  /** Trains {@code student} in place against {@code teacher} (not changed) on labelled {@code train}. */
  public static List<CompressionTrainer.Epoch> fit(
      InferenceModel teacher, Network student, Dataset train, TrainOptions opts, Options options) {
    checkCompatible(teacher.spec(), student.spec());
    int k = student.spec().classes();
    float[][] buffers = new float[3][];
    CompressionTrainer.Loss loss = (images, logits, labels, n, grad) -> {
      if (buffers[0] == null || buffers[0].length < n * k) {
        buffers[0] = new float[n * k];
        buffers[1] = new float[n * k];
        buffers[2] = new float[n * k];
      }
      MemorySegment.copy(teacher.forward(images).segment(), Tensor.F32, 0, buffers[1], 0, n * k);
      MemorySegment.copy(logits.segment(), Tensor.F32, 0, buffers[0], 0, n * k);
      double l = loss(buffers[0], buffers[1], labels, n, k, options, buffers[2]);
      MemorySegment.copy(buffers[2], 0, grad.segment(), Tensor.F32, 0, n * k);
      return l;
    };
    return CompressionTrainer.fit(student, train, opts, loss, null);
  }

  // student, teacher: (n, k) logits -> L = 1/n sum_r [(1 - a) CE_r + a T^2 KL(q_t,r || q_s,r)]
  // dL/dz_s = [(1 - a) (softmax(z_s) - onehot) + a T (softmax(z_s / T) - softmax(z_t / T))] / n
  /** The distillation loss of {@code n} rows of {@code k} logits; writes dL/d(student logits) into {@code grad} unless null. */
  public static double loss(float[] student, float[] teacher, int[] labels, int n, int k, Options options,
      float[] grad) {
    double t = options.temperature();
    double a = options.alpha();
    double[] p = new double[k];
    double[] qs = new double[k];
    double[] qt = new double[k];
    double total = 0;
    for (int r = 0; r < n; r++) {
      int label = labels[r];
      if (label < 0 || label >= k) {
        throw new UserException("label " + label + " is outside the classes 0.." + (k - 1));
      }
      int row = r * k;
      double logZ = logSoftmax(student, row, k, 1, p);
      double logZs = logSoftmax(student, row, k, t, qs);
      double logZt = logSoftmax(teacher, row, k, t, qt);
      double ce = -(student[row + label] - logZ);
      double kl = 0;
      for (int j = 0; j < k; j++) {
        double logQt = teacher[row + j] / t - logZt;
        double logQs = student[row + j] / t - logZs;
        if (qt[j] > 0) {
          kl += qt[j] * (logQt - logQs);
        }
      }
      total += (1 - a) * ce + a * t * t * kl;
      if (grad != null) {
        for (int j = 0; j < k; j++) {
          double hard = p[j] - (j == label ? 1 : 0);
          double soft = qs[j] - qt[j];
          grad[row + j] = (float) (((1 - a) * hard + a * t * soft) / n);
        }
      }
    }
    return total / n;
  }

  /** softmax(z[row..row+k) / t) into out; returns log of its normaliser (of z / t), max-subtracted. */
  private static double logSoftmax(float[] z, int row, int k, double t, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < k; j++) {
      max = Math.max(max, z[row + j] / t);
    }
    double sum = 0;
    for (int j = 0; j < k; j++) {
      out[j] = Math.exp(z[row + j] / t - max);
      sum += out[j];
    }
    for (int j = 0; j < k; j++) {
      out[j] /= sum;
    }
    return Math.log(sum) + max;
  }
}
