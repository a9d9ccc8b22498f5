package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.optim.GradientClipping;
import io.dlsql.executor.optim.LearningRateSchedule;
import io.dlsql.executor.optim.Optimizer;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.Dataset;
import io.dlsql.executor.train.TrainOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The training loop compression needs and {@link io.dlsql.executor.train.Trainer} does not offer:
 * a pluggable loss on the logits (distillation reads a teacher), and a {@link PruningMask} applied
 * to the gradients before every optimizer step and to the weights after it, so pruned weights stay
 * exactly zero. Per epoch a permutation drawn from the seed, batches in order, the optimizer and
 * learning-rate schedule of {@link TrainOptions}; deterministic for a seed and thread count.
 */
public final class CompressionTrainer {
  private static final long SHUFFLE_STREAM = 0x636f6d70L;
  private static final long STEP_STREAM = 0x73746570L;

  /** The loss of a batch: writes dLoss/dlogits into {@code grad} (rows 0..n) and returns the mean loss. */
  @FunctionalInterface
  public interface Loss {
    double forward(Tensor images, Tensor logits, int[] labels, int n, Tensor grad);
  }

  /** Per epoch: mean training loss and accuracy. */
  public record Epoch(int epoch, double loss, double accuracy) {}

  private CompressionTrainer() {}

  /** Plain cross-entropy (with the options' label smoothing). */
  public static Loss crossEntropy(TrainOptions opts) {
    SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(opts.labelSmoothing());
    return (images, logits, labels, n, grad) -> ce.forward(logits, labels, n, grad);
  }

  /**
   * Trains {@code net} in place on {@code train} for {@code opts.epochs()} epochs with {@code loss};
   * {@code mask} may be null. Uses epochs, batch_size, optimizer, learning_rate, momentum,
   * weight_decay, schedule, clip_norm and seed of {@code opts}.
   */
  public static List<Epoch> fit(Network net, Dataset train, TrainOptions opts, Loss loss, PruningMask mask) {
    if (!java.util.Arrays.equals(net.spec().inputShape(), train.sampleShape())) {
      throw new UserException("the model takes images of shape " + Arrays.toString(net.spec().inputShape())
          + " but the training data has " + Arrays.toString(train.sampleShape()));
    }
    if (!train.hasLabels()) {
      throw new UserException("training needs labelled data");
    }
    if (train.size() == 0) {
      throw new UserException("no training rows");
    }
    int classes = net.spec().classes();
    int batch = Math.min(opts.batchSize(), train.size());
    List<Parameter> params = net.parameters();
    List<Parameter> masked = mask == null ? List.of() : mask.parametersOf(net);
    if (mask != null) {
      mask.applyTo(masked);
    }
    LearningRateSchedule schedule = opts.createSchedule();
    List<Epoch> history = new ArrayList<>();
    int[] order = new int[train.size()];
    int[] labels = new int[batch];
    int batches = (int) Math.ceilDiv(train.size(), batch);
    try (Optimizer optimizer = opts.createOptimizer();
        Tensor images = Tensor.zeros(Inference.batched(batch, train.sampleShape()));
        Tensor grad = Tensor.zeros(batch, classes)) {
      for (int epoch = 0; epoch < opts.epochs(); epoch++) {
        Arrays.setAll(order, i -> i);
        if (opts.shuffle()) {
          Rng.derive(opts.seed(), SHUFFLE_STREAM, epoch).shuffle(order);
        }
        double lossSum = 0;
        long correct = 0;
        for (int b = 0; b < batches; b++) {
          int from = b * batch;
          int n = Math.min(batch, train.size() - from);
          Tensor x = images.slice(0, n);
          Tensor g = grad.slice(0, n);
          train.load(order, from, n, x, labels);
          net.setStepSeed(Rng.mix(opts.seed(), STEP_STREAM, epoch, b));
          Tensor logits = net.forward(x, true);
          double l = loss.forward(x, logits, labels, n, g);
          if (!Double.isFinite(l)) {
            throw new UserException("training diverged: the loss became " + l + " in epoch " + (epoch + 1)
                + ", batch " + (b + 1) + "; lower learning_rate or set clip_norm");
          }
          correct += SoftmaxCrossEntropy.correct(logits, labels, n);
          net.backward(g);
          if (opts.clipNorm() > 0) {
            GradientClipping.clipByGlobalNorm(params, opts.clipNorm());
          }
          if (mask != null) {
            mask.applyToGradients(masked);
          }
          optimizer.step(params, schedule.rate(epoch, b, batches));
          if (mask != null) {
            mask.applyTo(masked);
          }
          lossSum += l * n;
        }
        history.add(new Epoch(epoch + 1, lossSum / train.size(), (double) correct / train.size()));
      }
    }
    return history;
  }
}
