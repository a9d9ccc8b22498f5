package io.dlsql.executor.random;

/**
 * A small, fast, splittable pseudo-random generator (SplitMix64). Every random choice in training
 * (initial weights, shuffling, dropout masks, augmentation) draws from an {@code Rng} derived from
 * the seed and the position of the choice ({@link #derive}), not from a shared stream, so results
 * do not depend on thread timing and a resumed run replays exactly what an uninterrupted one does.
 */
public final class Rng {
  /** The step between states: state n (n = 1, 2, ...) of {@code new Rng(seed)} is {@code seed + n * GOLDEN_GAMMA}. */
  public static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
  /** The finalizer's two multipliers (shifts 30, 27, 31), for vector kernels that draw the same values. */
  public static final long MIX_MULTIPLIER_1 = 0xBF58476D1CE4E5B9L;
  public static final long MIX_MULTIPLIER_2 = 0x94D049BB133111EBL;
  private static final double FLOAT_UNIT = 0x1.0p-24;
  private static final double DOUBLE_UNIT = 0x1.0p-53;

  private long state;

  public Rng(long seed) {
    this.state = seed;
  }

  /** A generator for the stream named by {@code seed} and the given coordinates. */
  public static Rng derive(long seed, long... coordinates) {
    return new Rng(mix(seed, coordinates));
  }

  /** A well-mixed 64-bit value from a seed and coordinates (epoch, batch, layer...). */
  public static long mix(long seed, long... coordinates) {
    long h = finalizer(seed + GOLDEN_GAMMA);
    for (long c : coordinates) {
      h = finalizer(h ^ finalizer(c + GOLDEN_GAMMA));
    }
    return h;
  }

  /**
   * SplitMix64's output function. {@link #nextLong} returns {@code finalizer(seed + n * GOLDEN_GAMMA)}
   * for its n-th call, so any draw of a stream can be computed without the ones before it.
   */
  public static long finalizer(long z) {
    z = (z ^ (z >>> 30)) * MIX_MULTIPLIER_1;
    z = (z ^ (z >>> 27)) * MIX_MULTIPLIER_2;
    return z ^ (z >>> 31);
  }

  public long nextLong() {
    state += GOLDEN_GAMMA;
    return finalizer(state);
  }

  /** Uniform in [0, 1) with 24 random bits. */
  public float nextFloat() {
    return (float) ((nextLong() >>> 40) * FLOAT_UNIT);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  public double nextDouble() {
    return (nextLong() >>> 11) * DOUBLE_UNIT;
  }

  /** Uniform in [lo, hi). */
  public double uniform(double lo, double hi) {
    return lo + (hi - lo) * nextDouble();
  }

  /** Standard normal by Box-Muller (one value per call; the second is discarded for simplicity). */
  public double nextGaussian() {
    double u1 = nextDouble();
    double u2 = nextDouble();
    return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform in [0, bound) without modulo bias (Lemire's method). */
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    long r = (nextLong() >>> 32) * bound;
    long low = r & 0xFFFFFFFFL;
    if (low < bound) {
      long threshold = (0x1_0000_0000L - bound) % bound;
      while (low < threshold) {
        r = (nextLong() >>> 32) * bound;
        low = r & 0xFFFFFFFFL;
      }
    }
    return (int) (r >>> 32);
  }

  /** Fills {@code a} with a uniformly random permutation of {@code 0..a.length-1}. */
  public void permutation(int[] a) {
    for (int i = 0; i < a.length; i++) {
      a[i] = i;
    }
    shuffle(a);
  }

  /** Fisher-Yates shuffle in place. */
  public void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
