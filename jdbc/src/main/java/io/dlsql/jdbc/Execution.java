package io.dlsql.jdbc;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One running statement: its text, cancellation flag and live progress, visible to other
 * connections through {@code sys.progress} (the shell's progress bar polls it).
 */
public final class Execution {
  private static final AtomicLong NEXT_ID = new AtomicLong(1);

  /** A snapshot of where a long statement stands. */
  public record Progress(
      String phase,
      String model,
      int epoch,
      int epochs,
      int batch,
      int batches,
      double loss,
      double imagesPerSec,
      double etaSeconds) {
    static final Progress STARTING = new Progress("starting", null, 0, 0, 0, 0, Double.NaN, 0, Double.NaN);
  }

  private final long id = NEXT_ID.getAndIncrement();
  private final String sql;
  private final long startNanos = System.nanoTime();
  private volatile boolean cancelled;
  private volatile Progress progress = Progress.STARTING;

  Execution(String sql) {
    this.sql = sql;
  }

  public long id() {
    return id;
  }

  public String sql() {
    return sql;
  }

  public boolean isCancelled() {
    return cancelled;
  }

  void cancel() {
    cancelled = true;
  }

  public Progress progress() {
    return progress;
  }

  public void report(Progress p) {
    progress = p;
  }

  public double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Throws if the user cancelled this statement; long loops call it between units of work. */
  public void checkCancelled() {
    if (cancelled) {
      throw new StatementCancelledException();
    }
  }

  /** Thrown out of a statement that was cancelled; the statement's changes are not committed. */
  public static final class StatementCancelledException extends RuntimeException {
    StatementCancelledException() {
      super("statement cancelled");
    }
  }
}
