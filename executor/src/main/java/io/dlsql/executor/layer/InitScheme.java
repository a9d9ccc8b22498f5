package io.dlsql.executor.layer;

import io.dlsql.catalog.UserException;
import java.util.Locale;

/** How convolution and dense weights are initialised. */
public enum InitScheme {
  /** PyTorch's default: weights kaiming_uniform(a = sqrt(5)), i.e. U(±1/sqrt(fan_in)); biases U(±1/sqrt(fan_in)). */
  DEFAULT,
  /** He (kaiming) normal for ReLU networks: N(0, 2/fan_in); biases zero. */
  HE,
  /** Xavier (Glorot) uniform: U(±sqrt(6/(fan_in+fan_out))); biases zero. */
  XAVIER;

  /** Parses 'default', 'pytorch', 'he', 'kaiming', 'xavier' or 'glorot'. */
  public static InitScheme parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "default", "pytorch" -> DEFAULT;
      case "he", "kaiming" -> HE;
      case "xavier", "glorot" -> XAVIER;
      default -> throw new UserException(
          "unknown init '" + name + "'; known: 'default', 'he', 'xavier'");
    };
  }
}
