package io.dlsql.executor.train;

import io.dlsql.executor.tensor.Tensor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Loads batches on a background thread, one batch ahead of the compute: two reusable batch
 * buffers, the next one filled (and augmented) while the caller computes on the current one. A
 * batch returned by {@link #next()} stays valid until the following call.
 */
final class BatchLoader implements AutoCloseable {
  /** One loaded batch: views of the first {@code count} rows of a buffer. */
  record Batch(Tensor images, int[] labels, int count, int index) {}

  private final Dataset data;
  private final int batchSize;
  private final Augmentation augmentation;
  private final Tensor[] buffers = new Tensor[2];
  private final int[][] labels = new int[2][];
  private final ExecutorService thread;

  private int[] order;
  private int total;
  private int nextBatch;
  private int pendingSlot;
  private Future<?> pending;
  private long seed;
  private int epoch;

  BatchLoader(Dataset data, int batchSize, Augmentation augmentation) {
    this.data = data;
    this.batchSize = batchSize;
    this.augmentation = augmentation;
    int[] shape = data.sampleShape();
    int[] batched = new int[shape.length + 1];
    batched[0] = batchSize;
    System.arraycopy(shape, 0, batched, 1, shape.length);
    for (int s = 0; s < 2; s++) {
      buffers[s] = Tensor.zeros(batched);
      labels[s] = new int[batchSize];
    }
    thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dlsql-batch-loader");
      t.setDaemon(true);
      return t;
    });
  }

  /** Number of batches for {@code count} samples. */
  int batches(int count) {
    return (count + batchSize - 1) / batchSize;
  }

  /** Starts a pass over {@code order[0 .. count)} and begins loading its first batch. */
  void start(int[] order, int count, long seed, int epoch) {
    awaitPending();
    this.order = order;
    this.total = count;
    this.seed = seed;
    this.epoch = epoch;
    this.nextBatch = 0;
    submit(0, 0);
  }

  private void submit(int batch, int slot) {
    int from = batch * batchSize;
    int n = Math.min(batchSize, total - from);
    pendingSlot = slot;
    pending = thread.submit(() -> {
      data.load(order, from, n, buffers[slot], labels[slot]);
      if (augmentation != null) {
        augmentation.apply(buffers[slot], n, seed, epoch, from);
      }
    });
  }

  /** Waits for the next batch, starts loading the one after it, and returns it. */
  Batch next() {
    if (pending == null) {
      throw new IllegalStateException("no batch left in this pass");
    }
    int slot = pendingSlot;
    int batch = nextBatch;
    awaitPending();
    nextBatch++;
    if (nextBatch * batchSize < total) {
      submit(nextBatch, 1 - slot);
    }
    int n = Math.min(batchSize, total - batch * batchSize);
    return new Batch(buffers[slot].slice(0, n), labels[slot], n, batch);
  }

  private void awaitPending() {
    Future<?> f = pending;
    pending = null;
    if (f == null) {
      return;
    }
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while loading a batch", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public void close() {
    try {
      awaitPending();
    } catch (RuntimeException ignored) {
      // The load's failure has either been reported by next() or does not matter any more.
    } finally {
      thread.shutdownNow();
      for (Tensor t : buffers) {
        t.close();
      }
    }
  }
}
