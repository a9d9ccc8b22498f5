package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Weight sharing by k-means (Han et al., Deep Compression): the weights of each convolution and
 * dense layer are clustered into {@code 2^bits} shared values (1-D k-means, centroids initialised
 * evenly between the smallest and largest weight, Lloyd iterations to convergence), and each
 * weight is stored as a {@code bits}-bit index into its layer's codebook. Biases and batchnorm
 * state stay fp32.
 */
public record Codebook(int bits, LinkedHashMap<String, Coded> coded, LinkedHashMap<String, float[]> plain) {
  public static final int MIN_BITS = 1;
  public static final int MAX_BITS = 8;
  /** Lloyd iterations at most; 1-D k-means converges well before on weight distributions. */
  static final int MAX_ITERATIONS = 100;

  /** One tensor: its codebook, its indices packed {@code bits} per value (LSB first), its length. */
  public record Coded(float[] centroids, byte[] packed, int count) {}

  /** Clusters every conv and dense weight of {@code state} into {@code 2^bits} values. */
  public static Codebook quantize(NetworkSpec spec, Map<String, float[]> state, int bits) {
    if (bits < MIN_BITS || bits > MAX_BITS) {
      throw new UserException("codebook bits must be between " + MIN_BITS + " and " + MAX_BITS + ", got " + bits);
    }
    LinkedHashMap<String, Coded> coded = new LinkedHashMap<>();
    LinkedHashMap<String, float[]> plain = new LinkedHashMap<>();
    java.util.Set<String> weights = new java.util.HashSet<>();
    for (Node n : spec.nodes()) {
      if (n.op() == Op.CONV2D || n.op() == Op.DENSE) {
        weights.add(n.name() + ".weight");
      }
    }
    state.forEach((k, v) -> {
      if (weights.contains(k)) {
        coded.put(k, cluster(v, bits));
      } else {
        plain.put(k, v.clone());
      }
    });
    return new Codebook(bits, coded, plain);
  }

  /** k-means of {@code values} into {@code 2^bits} centroids, and the packed nearest-centroid indices. */
  static Coded cluster(float[] values, int bits) {
    int k = 1 << bits;
    float[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    double[] c = new double[k];
    double lo = n == 0 ? 0 : sorted[0];
    double hi = n == 0 ? 0 : sorted[n - 1];
    for (int j = 0; j < k; j++) {
      c[j] = k == 1 ? (lo + hi) / 2 : lo + (hi - lo) * j / (k - 1);
    }
    // Prefix sums of the sorted values: each cluster is a contiguous run, so its mean is O(1).
    double[] prefix = new double[n + 1];
    for (int i = 0; i < n; i++) {
      prefix[i + 1] = prefix[i] + sorted[i];
    }
    int[] bounds = new int[k + 1];
    for (int iter = 0; iter < MAX_ITERATIONS; iter++) {
      bounds[0] = 0;
      bounds[k] = n;
      for (int j = 1; j < k; j++) {
        bounds[j] = firstAtLeast(sorted, (c[j - 1] + c[j]) / 2, bounds[j - 1]);
      }
      boolean moved = false;
      for (int j = 0; j < k; j++) {
        int count = bounds[j + 1] - bounds[j];
        if (count == 0) {
          continue; // an empty cluster keeps its centroid
        }
        double mean = (prefix[bounds[j + 1]] - prefix[bounds[j]]) / count;
        if (mean != c[j]) {
          moved = true;
          c[j] = mean;
        }
      }
      if (!moved) {
        break;
      }
    }
    float[] centroids = new float[k];
    for (int j = 0; j < k; j++) {
      centroids[j] = (float) c[j];
    }
    byte[] packed = new byte[(int) Math.ceilDiv((long) values.length * bits, Byte.SIZE)];
    for (int i = 0; i < values.length; i++) {
      write(packed, i, bits, nearest(centroids, values[i]));
    }
    return new Coded(centroids, packed, values.length);
  }

  private static int firstAtLeast(float[] sorted, double threshold, int from) {
    int lo = from;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted[mid] < threshold) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static int nearest(float[] centroids, float v) {
    int best = 0;
    for (int j = 1; j < centroids.length; j++) {
      if (Math.abs(v - centroids[j]) < Math.abs(v - centroids[best])) {
        best = j;
      }
    }
    return best;
  }

  private static void write(byte[] packed, int i, int bits, int index) {
    long bit = (long) i * bits;
    for (int b = 0; b < bits; b++, bit++) {
      if (((index >> b) & 1) != 0) {
        packed[(int) (bit >>> 3)] |= (byte) (1 << (bit & 7));
      }
    }
  }

  static int read(byte[] packed, int i, int bits) {
    long bit = (long) i * bits;
    int index = 0;
    for (int b = 0; b < bits; b++, bit++) {
      index |= ((packed[(int) (bit >>> 3)] >> (bit & 7)) & 1) << b;
    }
    return index;
  }

  /** The fp32 state dict these codes stand for: decoded weights, then the plain entries. */
  public LinkedHashMap<String, float[]> decode() {
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    coded.forEach((k, c) -> {
      float[] v = new float[c.count()];
      for (int i = 0; i < v.length; i++) {
        v[i] = c.centroids()[read(c.packed(), i, bits)];
      }
      out.put(k, v);
    });
    plain.forEach((k, v) -> out.put(k, v.clone()));
    return out;
  }

  /** The stored form: {@code codebook/<name>/centroids|indices|count} and {@code fp32/<name>}. */
  public TensorArchive toArchive() {
    TensorArchive a = new TensorArchive().putMetadata("method", "codebook").putMetadata("bits", Integer.toString(bits));
    coded.forEach((name, c) -> {
      a.put("codebook/" + name + "/centroids", c.centroids());
      a.put("codebook/" + name + "/indices", c.packed());
      a.put("codebook/" + name + "/count", new int[] {c.count()});
    });
    plain.forEach((name, v) -> a.put("fp32/" + name, v));
    return a;
  }

  /** Reads {@link #toArchive()}'s form back. */
  public static Codebook fromArchive(TensorArchive a) {
    if (!"codebook".equals(a.metadata("method"))) {
      throw new UserException("the stored compressed model is " + a.metadata("method") + ", not a codebook");
    }
    int bits = Integer.parseInt(a.metadata("bits"));
    LinkedHashMap<String, Coded> coded = new LinkedHashMap<>();
    LinkedHashMap<String, float[]> plain = new LinkedHashMap<>();
    a.entries().forEach((k, v) -> {
      if (k.startsWith("fp32/")) {
        plain.put(k.substring("fp32/".length()), (float[]) v);
      } else if (k.endsWith("/centroids")) {
        String name = k.substring("codebook/".length(), k.length() - "/centroids".length());
        String p = "codebook/" + name + "/";
        coded.put(name, new Coded(a.floats(p + "centroids"), a.bytes(p + "indices"), a.ints(p + "count")[0]));
      }
    });
    return new Codebook(bits, coded, plain);
  }

  /** Packed indices, codebooks (fp32) and the fp32 rest. */
  public ModelSize size() {
    long bytes = 0;
    long values = 0;
    for (Coded c : coded.values()) {
      bytes += c.packed().length + (long) Float.BYTES * c.centroids().length;
      values += c.count();
    }
    values += ModelSize.values(plain);
    bytes += ModelSize.fp32Bytes(plain);
    return new ModelSize("codebook" + bits, values, bytes);
  }
}
