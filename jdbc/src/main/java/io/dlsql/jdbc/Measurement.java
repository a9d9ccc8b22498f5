package io.dlsql.jdbc;

import io.dlsql.executor.graph.Network;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.optim.Sgd;
import io.dlsql.executor.tensor.MemoryTracker;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.Dataset;
import io.dlsql.planner.cost.CostModel;
import io.dlsql.planner.explain.ExplainRow;
import java.util.HashMap;
import java.util.Map;

/**
 * What EXPLAIN ANALYZE measured: a few batches run after a warm-up one, timed per layer and as a
 * whole, with the peak of live tensor memory: weights, their gradients and optimizer state,
 * activations and their gradients, workspaces and the input batch (two in training, as TRAIN's
 * loader holds). Training batches take an SGD
 * step with momentum (the optimizer state the planner assumes) at learning rate 0, so the
 * throwaway network's weights stay as built.
 */
record Measurement(Map<String, Double> layerMillis, double batchMillis, long peakBytes) {
  /** Measured batches after the warm-up: enough for a stable mean, few enough to stay quick. */
  static final int MEASURED_BATCHES = 3;
  private static final double NANOS_PER_MILLI = 1e6;
  /** Momentum of the measured SGD steps: one state slot per parameter, as the planner assumes. */
  private static final double MEASURED_MOMENTUM = 0.9;
  private static final String TIME_PER_BATCH = "time per batch";
  private static final String PEAK_MEMORY = "peak memory";

  /**
   * Runs the batches; the peak counts what the process holds for this run above {@code
   * baselineBytes}, the tracked memory live before the network was built (other statements'
   * tensors).
   */
  static Measurement run(Network network, Dataset data, int batch, boolean training, double labelSmoothing,
      Execution execution, long baselineBytes) {
    int[] shape = data.sampleShape();
    int[] batchShape = new int[shape.length + 1];
    batchShape[0] = batch;
    System.arraycopy(shape, 0, batchShape, 1, shape.length);
    SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(labelSmoothing);
    int classes = network.spec().classes();
    // Training holds two input batches, as TRAIN's loader does (it fills the next while one computes).
    Tensor[] buffers = new Tensor[training ? CostModel.TRAINING_INPUT_BATCHES : 1];
    try (Tensor grad = Tensor.zeros(batch, classes); Sgd sgd = new Sgd(MEASURED_MOMENTUM, false, 0)) {
      for (int b = 0; b < buffers.length; b++) {
        buffers[b] = Tensor.zeros(batchShape);
      }
      int[] labels = new int[batch];
      int[] indices = new int[batch];
      long elapsed = 0;
      for (int step = 0; step <= MEASURED_BATCHES; step++) {
        for (int i = 0; i < batch; i++) {
          indices[i] = (step * batch + i) % data.size();
        }
        Tensor x = buffers[step % buffers.length];
        data.load(indices, 0, batch, x, training ? labels : null);
        if (step == 1) {
          network.resetLayerTimes();
          MemoryTracker.resetPeak();
        }
        long start = System.nanoTime();
        Tensor logits = network.forward(x, training);
        if (training) {
          loss.forward(logits, labels, batch, grad);
          network.backward(grad);
          sgd.step(network.parameters(), 0);
        }
        if (step >= 1) {
          elapsed += System.nanoTime() - start;
        }
        execution.checkCancelled();
      }
      Map<String, Double> perLayer = new HashMap<>();
      for (Network.LayerTime t : network.layerTimes()) {
        // A recomputed layer's time includes its forward run again in backward, as its estimate does.
        perLayer.put(t.node(), (t.forwardNanos() + t.backwardNanos() + t.recomputeNanos()) / NANOS_PER_MILLI
            / MEASURED_BATCHES);
      }
      return new Measurement(perLayer, elapsed / NANOS_PER_MILLI / MEASURED_BATCHES,
          MemoryTracker.peakBytes() - baselineBytes);
    } finally {
      for (Tensor b : buffers) {
        if (b != null) {
          b.close();
        }
      }
    }
  }

  /** The measured time for an EXPLAIN row: per operator, or per batch for the total. */
  Double millisFor(ExplainRow row) {
    if (row.kind() == ExplainRow.Kind.OPERATOR) {
      return layerMillis.get(row.name());
    }
    if (row.kind() == ExplainRow.Kind.TOTAL && TIME_PER_BATCH.equals(row.name())) {
      return batchMillis;
    }
    return null;
  }

  /** The measured peak memory for the plan's peak-memory total row. */
  Long bytesFor(ExplainRow row) {
    return row.kind() == ExplainRow.Kind.TOTAL && PEAK_MEMORY.equals(row.name()) ? peakBytes : null;
  }
}
