package io.dlsql.bench;

import java.util.List;

/**
 * One GEMM problem as benchmarks name it: {@code "nt:128x3136x1024"} is {@code C[m x n] = A[m x k]
 * * B^T} with m = 128, k = 3136, n = 1024; the two letters say whether A and B are transposed
 * ({@code n} = as stored k-contiguous for A and n-contiguous for B, {@code t} = transposed), the
 * numbers are m x k x n in the order the conv lowering writes them: Cout x (Cin*kh*kw) x (N*H*W).
 */
public record GemmShape(boolean transA, boolean transB, int m, int k, int n) {
  /**
   * The shapes every GEMM benchmark here runs (and bench/sgemm_torch.py): 1024^3, then the anchor
   * convnet and ResNet-20 at batch 128, per image: forward conv (Cout x Cin*kh*kw x H*W), weight
   * gradient (A·B^T), input gradient (A^T·B), and the 3136 -> 1024 dense layer's three products.
   */
  public static final List<String> BENCHMARK =
      List.of(
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
          "tn:1024x128x3136");

  public GemmShape {
    if (m < 1 || k < 1 || n < 1) {
      throw new IllegalArgumentException("GEMM sizes must be positive, got " + m + "x" + k + "x" + n);
    }
  }

  /** Parses {@code "nn:MxKxN"}, {@code "nt:..."}, {@code "tn:..."} or {@code "tt:..."}. */
  public static GemmShape parse(String text) {
    String[] parts = text.split(":");
    String[] dims = parts[parts.length - 1].split("x");
    String ops = parts.length == 2 ? parts[0] : "nn";
    if (dims.length != 3 || ops.length() != 2 || !ops.matches("[nt]{2}")) {
      throw new IllegalArgumentException(
          "GEMM shape must look like nn:MxKxN (ops nn, nt, tn or tt), got '" + text + "'");
    }
    return new GemmShape(
        ops.charAt(0) == 't',
        ops.charAt(1) == 't',
        Integer.parseInt(dims[0]),
        Integer.parseInt(dims[1]),
        Integer.parseInt(dims[2]));
  }

  /** Floating-point operations of one multiply: a multiply and an add per (i, j, p). */
  public double flops() {
    return 2.0 * m * k * n;
  }

  /** Leading dimension of A as stored (k x m when transposed, else m x k). */
  public int lda() {
    return transA ? m : k;
  }

  /** Leading dimension of B as stored (n x k when transposed, else k x n). */
  public int ldb() {
    return transB ? k : n;
  }
}
