package io.dlsql.executor.compress;

import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A state dict stored in 16 bits per value, fp16 (IEEE half) or bf16 (the top half of an fp32),
 * both rounded to nearest even. Compute stays fp32: {@link #widen()} gives the fp32 state dict and
 * {@link #open} a network running on it, so only storage and load bandwidth shrink.
 */
public record NarrowWeights(Format format, LinkedHashMap<String, short[]> values) {

  /** The 16-bit format. */
  public enum Format {
    /** IEEE 754 binary16: 10-bit mantissa, range up to 65504 (larger values become infinity). */
    FP16,
    /** bfloat16: fp32's 8-bit exponent and range, 7-bit mantissa. */
    BF16
  }

  private static final int BF16_SHIFT = 16;
  private static final int BF16_ROUNDING_BIAS = 0x7FFF;
  private static final short BF16_QUIET_NAN = 0x7FC0;

  /** Every value of {@code state} rounded to {@code format}. */
  public static NarrowWeights narrow(Map<String, float[]> state, Format format) {
    LinkedHashMap<String, short[]> out = new LinkedHashMap<>();
    state.forEach((k, v) -> {
      short[] s = new short[v.length];
      for (int i = 0; i < v.length; i++) {
        s[i] = format == Format.FP16 ? Float.floatToFloat16(v[i]) : toBf16(v[i]);
      }
      out.put(k, s);
    });
    return new NarrowWeights(format, out);
  }

  /** bf16 bits of {@code f}, rounded to nearest even; NaN stays NaN. */
  public static short toBf16(float f) {
    if (Float.isNaN(f)) {
      return BF16_QUIET_NAN;
    }
    int bits = Float.floatToRawIntBits(f);
    int lsb = (bits >>> BF16_SHIFT) & 1;
    return (short) ((bits + BF16_ROUNDING_BIAS + lsb) >>> BF16_SHIFT);
  }

  /** The fp32 value of bf16 bits (exact). */
  public static float fromBf16(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << BF16_SHIFT);
  }

  /** The fp32 state dict these values stand for. */
  public LinkedHashMap<String, float[]> widen() {
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    values.forEach((k, s) -> {
      float[] v = new float[s.length];
      for (int i = 0; i < s.length; i++) {
        v[i] = format == Format.FP16 ? Float.float16ToFloat(s[i]) : fromBf16(s[i]);
      }
      out.put(k, v);
    });
    return out;
  }

  /** An fp32 network of {@code spec} with the widened weights, in evaluation mode. */
  public InferenceModel open(NetworkSpec spec) {
    Network net = Network.build(spec, 0);
    try {
      net.loadStateDict(widen());
    } catch (RuntimeException e) {
      net.close();
      throw e;
    }
    return InferenceModel.of(net);
  }

  /** The stored form: metadata {@code method} = fp16 or bf16, one int16 array per state-dict entry. */
  public TensorArchive toArchive() {
    TensorArchive a = new TensorArchive().putMetadata("method", format.name().toLowerCase(java.util.Locale.ROOT));
    values.forEach(a::put);
    return a;
  }

  /** Reads {@link #toArchive()}'s form back. */
  public static NarrowWeights fromArchive(TensorArchive a) {
    Format f = switch (a.metadata("method")) {
      case "fp16" -> Format.FP16;
      case "bf16" -> Format.BF16;
      default -> throw new io.dlsql.catalog.UserException(
          "the stored compressed model is " + a.metadata("method") + ", not fp16 or bf16");
    };
    LinkedHashMap<String, short[]> v = new LinkedHashMap<>();
    a.entries().forEach((k, s) -> v.put(k, (short[]) s));
    return new NarrowWeights(f, v);
  }

  /** Two bytes per value. */
  public ModelSize size() {
    long n = 0;
    for (short[] s : values.values()) {
      n += s.length;
    }
    return new ModelSize(format.name().toLowerCase(java.util.Locale.ROOT), n, n * Short.BYTES);
  }
}
