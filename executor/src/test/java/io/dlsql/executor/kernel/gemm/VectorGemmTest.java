package io.dlsql.executor.kernel.gemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.ReferenceGemm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link VectorGemm} against a float64 oracle and against {@link ReferenceGemm}: all transpose
 * combinations, odd sizes around the tile edges, alpha/beta cases, offsets and padded leading
 * dimensions, heap and native segments, and bit-identical results for 1 and 2 threads.
 */
class VectorGemmTest {
  private Arena arena;
  private int threadsBefore;

  @BeforeEach
  void open() {
    arena = Arena.ofConfined();
    threadsBefore = Parallel.get().threads();
  }

  @AfterEach
  void close() {
    arena.close();
    Parallel.setThreads(threadsBefore);
  }

  /** m, n, k around the tile (8 x 32), vector (16) and block edges, plus the tiny path. */
  static Stream<Arguments> shapes() {
    int[][] shapes = {
      {1, 1, 1}, {1, 33, 17}, {7, 1, 5}, {7, 17, 33}, {8, 32, 16}, {9, 33, 7}, {17, 127, 33},
      {33, 49, 127}, {64, 196, 40}, {127, 17, 65}, {40, 96, 400}, {16, 15, 300}, {3, 70, 1}
    };
    List<Arguments> out = new ArrayList<>();
    long seed = 1;
    for (int[] s : shapes) {
      for (int t = 0; t < 4; t++) {
        out.add(Arguments.of(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0, seed++));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "m={0} n={1} k={2} transA={3} transB={4}")
  @MethodSource("shapes")
  void matchesFloat64AndReference(int m, int n, int k, boolean transA, boolean transB, long seed) {
    boolean heap = seed % 2 == 0;
    int pad = (int) (seed % 3) * 3;
    float[][] alphaBeta = {{1f, 0f}, {1.5f, 1f}, {-0.5f, 0.75f}};
    float[] ab = alphaBeta[(int) (seed % alphaBeta.length)];
    GemmFixture f = new GemmFixture(arena, heap, transA, transB, m, n, k, ab[0], ab[1], pad, false, seed);
    run(f);
    f.assertMatchesFloat64("vector");
    float[] fast = f.result();

    f.resetC();
    ReferenceGemm.sgemm(
        transA, transB, m, n, k, f.alpha, f.a, f.aOff, f.lda, f.b, f.bOff, f.ldb, f.beta, f.c,
        f.cOff, f.ldc);
    f.assertMatchesFloat64("reference");
    float[] reference = f.result();
    // Each is within float32 error of the oracle, so they differ by at most twice that.
    double[] tolerance = f.tolerance();
    for (int e = 0; e < fast.length; e++) {
      assertEquals(reference[e], fast[e], 2 * tolerance[e], "element " + e + " vs ReferenceGemm");
    }
  }

  @ParameterizedTest(name = "transA={0} transB={1}")
  @MethodSource("transposes")
  void betaZeroIgnoresGarbageInC(boolean transA, boolean transB) {
    for (int[] s : new int[][] {{5, 9, 3}, {37, 70, 90}}) {
      GemmFixture f = new GemmFixture(arena, false, transA, transB, s[0], s[1], s[2], 2f, 0f, 1, true, 7);
      run(f);
      f.assertMatchesFloat64("beta 0 over NaN");
    }
  }

  static Stream<Arguments> transposes() {
    return Stream.of(
        Arguments.of(false, false), Arguments.of(true, false), Arguments.of(false, true),
        Arguments.of(true, true));
  }

  /** Where a test's operands live: a float[], or native memory of a confined or shared arena. */
  enum Memory {
    HEAP,
    CONFINED,
    SHARED
  }

  static Stream<Arguments> transposesAndMemory() {
    return transposes()
        .flatMap(t -> Stream.of(Memory.values()).map(mem -> Arguments.of(t.get()[0], t.get()[1], mem)));
  }

  @ParameterizedTest(name = "transA={0} transB={1} {2}")
  @MethodSource("transposesAndMemory")
  void oneAndTwoThreadsGiveIdenticalBits(boolean transA, boolean transB, Memory memory) {
    // Large enough for the threaded path; odd edges so tiles of both threads have ragged edges.
    // Confined segments must fall back to the calling thread instead of failing in a worker.
    try (Arena shared = Arena.ofShared()) {
      Arena where = memory == Memory.SHARED ? shared : arena;
      for (int[] s : new int[][] {{130, 150, 300}, {64, 196, 200}, {24, 1000, 120}}) {
        GemmFixture f =
            new GemmFixture(
                where, memory == Memory.HEAP, transA, transB, s[0], s[1], s[2], 1.25f, 0.5f, 2,
                false, 11);
        assertTrue((long) s[0] * s[1] * s[2] >= VectorGemm.PARALLEL_MIN_FMAS, "shape must go parallel");
        Parallel.setThreads(1);
        run(f);
        float[] one = f.result();
        f.resetC();
        Parallel.setThreads(2);
        run(f);
        float[] two = f.result();
        assertArrayEquals(one, two, "1 vs 2 threads");
        f.assertMatchesFloat64("2 threads");
      }
    }
  }

  @Test
  void callsFromInsideAParallelRegionComplete() {
    // Layers split a batch with Parallel.forRange and call sgemm per chunk: the worker's call must
    // not queue work behind itself (that would deadlock a one-worker pool).
    Parallel.setThreads(2);
    try (Arena shared = Arena.ofShared()) {
      GemmFixture[] perChunk = new GemmFixture[2];
      for (int i = 0; i < perChunk.length; i++) {
        perChunk[i] = new GemmFixture(shared, false, false, true, 96, 160, 200, 1f, 0f, 0, false, 20 + i);
      }
      assertTimeoutPreemptively(
          Duration.ofSeconds(60),
          () -> Parallel.get().forRange(perChunk.length, 1, (chunk, from, to) -> {
            for (int i = from; i < to; i++) {
              run(perChunk[i]);
            }
          }));
      for (GemmFixture f : perChunk) {
        f.assertMatchesFloat64("nested");
      }
    }
  }

  @Test
  void zeroSizesAndAlphaZero() {
    GemmFixture f = new GemmFixture(arena, false, false, false, 6, 5, 0, 1f, 0.5f, 0, false, 3);
    run(f);
    f.assertMatchesFloat64("k = 0 scales C by beta");
    GemmFixture g = new GemmFixture(arena, false, false, true, 6, 5, 4, 0f, 0f, 1, true, 4);
    run(g);
    for (float v : g.result()) {
      assertEquals(0f, v);
    }
    // m = 0 or n = 0 touch nothing.
    MemorySegment empty = MemorySegment.ofArray(new float[0]);
    VectorGemm.sgemm(false, false, 0, 5, 3, 1f, empty, 0, 3, empty, 0, 5, 0f, empty, 0, 5);
  }

  @Test
  void gemmChecksArgumentsAndSwitchesVariant() {
    MemorySegment small = MemorySegment.ofArray(new float[10]);
    IllegalArgumentException tooSmall =
        assertThrows(
            IllegalArgumentException.class,
            () -> Gemm.sgemm(false, false, 4, 4, 4, 1f, small, 0, 4, small, 0, 4, 0f, small, 0, 4));
    assertTrue(tooSmall.getMessage().contains("segment holds 10"), tooSmall.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> Gemm.sgemm(false, false, 2, 2, 2, 1f, small, 0, 1, small, 0, 2, 0f, small, 0, 2));
    assertThrows(
        IllegalArgumentException.class,
        () -> Gemm.sgemm(false, false, -1, 2, 2, 1f, small, 0, 2, small, 0, 2, 0f, small, 0, 2));

    Gemm.Variant before = Gemm.variant();
    try {
      for (Gemm.Variant v : Gemm.Variant.values()) {
        Gemm.setVariant(v);
        GemmFixture f = new GemmFixture(arena, true, true, false, 19, 45, 23, 1f, 0.5f, 1, false, 5);
        Gemm.sgemm(
            f.transA, f.transB, f.m, f.n, f.k, f.alpha, f.a, f.aOff, f.lda, f.b, f.bOff, f.ldb,
            f.beta, f.c, f.cOff, f.ldc);
        f.assertMatchesFloat64(v.name());
      }
    } finally {
      Gemm.setVariant(before);
    }
  }

  @Test
  void variantPropertyValues() {
    assertEquals(Gemm.Variant.REFERENCE, Gemm.Variant.parse(" Reference "));
    assertEquals(Gemm.Variant.REFERENCE, Gemm.Variant.parse("scalar"));
    assertEquals(Gemm.Variant.VECTOR, Gemm.Variant.parse("VECTOR"));
    assertEquals(Gemm.Variant.VECTOR, Gemm.Variant.parse(""));
    UserException bad = assertThrows(UserException.class, () -> Gemm.Variant.parse("fast"));
    assertTrue(bad.getMessage().contains(Gemm.VARIANT_PROPERTY), bad.getMessage());
  }

  @Test
  void splitsAlongTheDimensionThatBalances() {
    // 196 columns are 7 tiles (4 + 3 over two threads), 64 rows are 8 (4 + 4): split rows.
    assertFalse(VectorGemm.splitByColumns(64, 196, 2));
    // Square: a tie, split columns.
    assertTrue(VectorGemm.splitByColumns(1024, 1024, 2));
    // Rows would balance better, but each thread would then pack all of the much larger B.
    assertTrue(VectorGemm.splitByColumns(32, 784, 2));
  }

  private static void run(GemmFixture f) {
    VectorGemm.sgemm(
        f.transA, f.transB, f.m, f.n, f.k, f.alpha, f.a, f.aOff, f.lda, f.b, f.bOff, f.ldb, f.beta,
        f.c, f.cOff, f.ldc);
  }
}
