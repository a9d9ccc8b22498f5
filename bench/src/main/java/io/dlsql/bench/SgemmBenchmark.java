package io.dlsql.bench;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@link Gemm#sgemm} on the shapes the anchor convnet and ResNet-20 lower to at batch 128 (im2col
 * forward, the A·B^T and A^T·B of the backward pass, the dense layer) and on 1024^3. Operands are
 * off-heap, as tensors are. {@link BenchMain} turns the time per call into GFLOP/s;
 * {@code bench/sgemm_torch.py} measures OpenBLAS on the same list.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// The first seconds of a fork run interpreted and C1-compiled vector code (slow by 100x) until
// C2 has compiled the kernels, longer when other processes share the cores.
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SgemmBenchmark {
  /** See {@link GemmShape}: ops, then m x k x n. Same list as {@link GemmShape#BENCHMARK}. */
  @Param({
    "nn:1024x1024x1024",
    "nn:32x25x784",
    "nn:64x800x196",
    "nn:16x144x784",
    "nn:32x288x196",
    "nn:64x576x49",
    "nt:32x784x25",
    "nt:64x196x800",
    "tn:25x32x784",
    "tn:800x64x196",
    "nt:128x3136x1024",
    "nn:128x1024x3136",
    "tn:1024x128x3136"
  })
  public String shape;

  /** Threads of the kernel pool ({@link Parallel#setThreads}). */
  @Param({"1", "2"})
  public int threads;

  /** {@code vector} or {@code reference} ({@link Gemm.Variant}). */
  @Param({"vector"})
  public String variant;

  private GemmShape s;
  private Arena arena;
  private MemorySegment a;
  private MemorySegment b;
  private MemorySegment c;

  @Setup(Level.Trial)
  public void setUp() {
    s = GemmShape.parse(shape);
    Parallel.setThreads(threads);
    Gemm.setVariant(Gemm.Variant.valueOf(variant.toUpperCase(Locale.ROOT)));
    arena = Arena.ofShared();
    SplittableRandom random = new SplittableRandom(42);
    a = randomMatrix((long) s.m() * s.k(), random);
    b = randomMatrix((long) s.k() * s.n(), random);
    c = randomMatrix((long) s.m() * s.n(), random);
  }

  private MemorySegment randomMatrix(long floats, SplittableRandom random) {
    MemorySegment seg = arena.allocate(floats * Float.BYTES, 64);
    for (long i = 0; i < floats; i++) {
      seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() * 2 - 1));
    }
    return seg;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    arena.close();
  }

  @Benchmark
  public void sgemm() {
    Gemm.sgemm(
        s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, a, 0, s.lda(), b, 0, s.ldb(), 0f, c, 0,
        s.n());
  }
}
