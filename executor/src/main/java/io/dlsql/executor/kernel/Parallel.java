package io.dlsql.executor.kernel;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one thread pool every kernel uses. Work is split into a fixed number of contiguous chunks
 * that depends only on the problem size and {@link #threads()}, never on timing, so results
 * (including reductions done per chunk and combined in chunk order) are deterministic for a given
 * thread count.
 */
public final class Parallel {
  /** A body that processes indices {@code [from, to)} as chunk number {@code chunk}. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int chunk, int from, int to);
  }

  /** The name of the pool's worker threads (benchmarks find them by it to read their CPU time). */
  public static final String THREAD_NAME = "dlsql-kernel";

  private static volatile Parallel shared = new Parallel(Runtime.getRuntime().availableProcessors());

  /**
   * True on a thread that is running a chunk. A kernel called from inside a chunk (a GEMM inside
   * a per-image convolution) must not wait on the same pool it occupies, so a nested
   * {@link #forRange} runs its chunks one after another on the current thread, with the same
   * chunk boundaries, which keeps results identical.
   */
  private static final ThreadLocal<Boolean> IN_CHUNK = ThreadLocal.withInitial(() -> false);

  private final int threads;
  private final ExecutorService pool;

  private Parallel(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
    }
    this.threads = threads;
    this.pool =
        threads == 1
            ? null
            : Executors.newFixedThreadPool(
                threads - 1,
                r -> {
                  Thread t = new Thread(r, THREAD_NAME);
                  t.setDaemon(true);
                  return t;
                });
  }

  /** The pool kernels use now. */
  public static Parallel get() {
    return shared;
  }

  /** Replaces the shared pool with one of {@code threads} threads (the caller's thread counts as one). */
  public static synchronized void setThreads(int threads) {
    if (threads == shared.threads) {
      return;
    }
    Parallel old = shared;
    shared = new Parallel(threads);
    if (old.pool != null) {
      old.pool.shutdown();
    }
  }

  /**
   * Whether the current thread is running a chunk of some {@link #forRange}; a nested {@code
   * forRange} then runs serially on this thread, so a kernel may skip splitting its work.
   */
  public static boolean insideChunk() {
    return IN_CHUNK.get();
  }

  /** How many threads (the caller's included) run chunks. */
  public int threads() {
    return threads;
  }

  /** How many chunks {@link #forRange} makes for {@code n} items of at least {@code grain} each. */
  public int chunks(int n, int grain) {
    if (n <= 0) {
      return 0;
    }
    int byGrain = Math.max(1, n / Math.max(1, grain));
    return Math.min(threads, byGrain);
  }

  /**
   * Runs {@code body} over {@code [0, n)} split into {@link #chunks(int, int)} contiguous chunks;
   * the calling thread runs chunk 0. Returns when every chunk has finished; rethrows the first
   * failure.
   */
  public void forRange(int n, int grain, RangeBody body) {
    int chunks = chunks(n, grain);
    if (chunks == 0) {
      return;
    }
    if (chunks == 1 || pool == null) {
      body.run(0, 0, n);
      return;
    }
    if (IN_CHUNK.get()) {
      for (int c = 0; c < chunks; c++) {
        body.run(c, start(n, chunks, c), start(n, chunks, c + 1));
      }
      return;
    }
    CountDownLatch done = new CountDownLatch(chunks - 1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    for (int c = 1; c < chunks; c++) {
      final int chunk = c;
      pool.execute(
          () -> {
            IN_CHUNK.set(true);
            try {
              body.run(chunk, start(n, chunks, chunk), start(n, chunks, chunk + 1));
            } catch (Throwable t) {
              failure.compareAndSet(null, t);
            } finally {
              IN_CHUNK.set(false);
              done.countDown();
            }
          });
    }
    IN_CHUNK.set(true);
    try {
      body.run(0, 0, start(n, chunks, 1));
    } catch (Throwable t) {
      failure.compareAndSet(null, t);
    } finally {
      IN_CHUNK.set(false);
    }
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for kernel threads", e);
    }
    Throwable t = failure.get();
    if (t instanceof RuntimeException re) {
      throw re;
    }
    if (t instanceof Error err) {
      throw err;
    }
    if (t != null) {
      throw new IllegalStateException(t);
    }
  }

  /** First index of chunk {@code c} when {@code n} items are split into {@code chunks} chunks. */
  public static int start(int n, int chunks, int c) {
    return (int) ((long) n * c / chunks);
  }
}
