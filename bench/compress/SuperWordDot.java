import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Whether C2's auto-vectorizer (SuperWord) gives int8 inference a faster multiply-add than fp32
 * FMA: it turns {@code out[i] += a[2i] * b[2i] + a[2i+1] * b[2i+1]} over short arrays into
 * pairwise multiply-adds ({@code vpmaddwd}; with AVX512_VNNI {@code vpdpwssd}, 32 int16 products
 * per instruction), which the Vector API cannot express. Times, in multiply-adds per second of
 * thread CPU time over L1-resident arrays: that idiom (the accumulators stay in memory: a load and
 * a store of {@code out} per vector, and a GEMM must materialise its broadcast operand as pairs);
 * the fp32 loop of the same shape ({@code out[i] = fma(a[i], b[i], out[i])}); and four rows sharing
 * the {@code b} loads, the first step of register blocking. Compare with the fp32 GEMM's rate
 * (Int8Profile's conv2 time). Run {@code bench/compress/run.sh SuperWordDot [n]}; JVM options
 * through PROFILE_JAVA_OPTS (e.g. {@code -XX:UseAVX=2}, {@code -XX:-UseSuperWord}).
 */
public final class SuperWordDot {
  private static final long MACS_PER_CASE = 2_000_000_000L;
  private static final int ROUNDS = 5;
  private static final int INT8_MAX = 127;

  static void pairs(short[] a, short[] b, int[] out, int n) {
    for (int i = 0; i < n; i++) {
      out[i] += a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
    }
  }

  static void fp32(float[] a, float[] b, float[] out, int n) {
    for (int i = 0; i < n; i++) {
      out[i] = Math.fma(a[i], b[i], out[i]);
    }
  }

  static void fourRows(short[][] r, short[] b, int[][] c, int n) {
    short[] r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
    int[] c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    for (int i = 0; i < n; i++) {
      c0[i] += r0[2 * i] * b[2 * i] + r0[2 * i + 1] * b[2 * i + 1];
      c1[i] += r1[2 * i] * b[2 * i] + r1[2 * i + 1] * b[2 * i + 1];
      c2[i] += r2[2 * i] * b[2 * i] + r2[2 * i + 1] * b[2 * i + 1];
      c3[i] += r3[2 * i] * b[2 * i] + r3[2 * i + 1] * b[2 * i + 1];
    }
  }

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 512;
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    SplittableRandom rng = new SplittableRandom(1);
    short[] a = new short[2 * n];
    short[] b = new short[2 * n];
    short[][] rows = new short[4][2 * n];
    int[][] sums = new int[4][n];
    float[] fa = new float[n];
    float[] fb = new float[n];
    float[] fo = new float[n];
    for (int i = 0; i < 2 * n; i++) {
      a[i] = (short) rng.nextInt(-INT8_MAX, INT8_MAX + 1);
      b[i] = (short) rng.nextInt(-INT8_MAX, INT8_MAX + 1);
    }
    for (int k = 0; k < rows.length; k++) {
      short x0 = (short) rng.nextInt(-INT8_MAX, INT8_MAX + 1);
      short x1 = (short) rng.nextInt(-INT8_MAX, INT8_MAX + 1);
      for (int i = 0; i < n; i++) {
        rows[k][2 * i] = x0; // a broadcast pair, as a GEMM row would need it
        rows[k][2 * i + 1] = x1;
      }
    }
    for (int i = 0; i < n; i++) {
      fa[i] = (float) rng.nextDouble();
      fb[i] = (float) rng.nextDouble();
    }
    long calls = MACS_PER_CASE / (2L * n);
    long checksum = 0;
    for (int round = 0; round < ROUNDS; round++) {
      long t0 = bean.getCurrentThreadCpuTime();
      for (long k = 0; k < calls; k++) {
        pairs(a, b, sums[0], n);
      }
      long t1 = bean.getCurrentThreadCpuTime();
      for (long k = 0; k < 2 * calls; k++) {
        fp32(fa, fb, fo, n);
      }
      long t2 = bean.getCurrentThreadCpuTime();
      for (long k = 0; k < calls / 4; k++) {
        fourRows(rows, b, sums, n);
      }
      long t3 = bean.getCurrentThreadCpuTime();
      checksum += sums[0][1] + sums[3][2] + (long) fo[1];
      System.out.printf(Locale.ROOT,
          "n %d round %d: int16 pairs %.1f GMAC/s, fp32 fma %.1f GMAC/s, int16 pairs x 4 rows %.1f GMAC/s%n",
          n, round, (double) MACS_PER_CASE / (t1 - t0), (double) MACS_PER_CASE / (t2 - t1),
          (double) MACS_PER_CASE / (t3 - t2));
    }
    System.out.println("checksum " + checksum);
  }
}
