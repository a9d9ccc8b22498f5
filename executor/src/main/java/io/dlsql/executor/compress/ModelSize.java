package io.dlsql.executor.compress;

import java.util.Map;

/**
 * Size accounting of model representations, in bytes as stored (weights, scales, indices; no file
 * headers), so the engine can report size on disk and compression ratios the same way for every
 * variant.
 *
 * @param parameters values the representation stands for (a pruned weight counts as stored only
 *     if it is kept)
 * @param bytes bytes of the stored representation
 */
public record ModelSize(String representation, long parameters, long bytes) {

  /** {@code reference.bytes() / bytes()}: how many times smaller this is. */
  public double ratioTo(ModelSize reference) {
    return (double) reference.bytes() / bytes;
  }

  /** Values in a state dict. */
  public static long values(Map<String, float[]> state) {
    long n = 0;
    for (float[] v : state.values()) {
      n += v.length;
    }
    return n;
  }

  /** Bytes of a state dict stored as fp32. */
  public static long fp32Bytes(Map<String, float[]> state) {
    return values(state) * Float.BYTES;
  }

  /** An fp32 state dict. */
  public static ModelSize fp32(Map<String, float[]> state) {
    return new ModelSize("fp32", values(state), fp32Bytes(state));
  }
}
