package io.dlsql.planner;

import io.dlsql.catalog.UserException;
import io.dlsql.planner.physical.Precision;
import io.dlsql.planner.physical.TensorLayout;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The planner's options as a session's {@code SET} statements leave them, checked and typed. Keys
 * the planner does not know are left alone (the session map also holds other modules' options);
 * a known key with a bad value is a {@link UserException} naming the accepted values.
 *
 * @param plannerOn {@code planner}: off makes the plan the executor's defaults, with no pass run
 * @param convAlgorithm {@code conv_algorithm}: one algorithm for every convolution it applies to
 * @param layout {@code layout}: one layout for every image tensor a kernel exists for
 * @param fusionOn {@code fusion}
 * @param checkpointing {@code checkpointing}: off, optimal (the default) or sqrt (Chen et al.)
 * @param threads {@code threads}: one thread count for every node instead of the cheapest
 * @param precision {@code precision}: fp32 only until compressed models get their kernels
 * @param conversionMargin {@code conversion_margin}: how much more than its estimate the {@code
 *     algorithm_layout} search charges a layout conversion when choosing (a layout change must
 *     win by more than the conversion's demonstrated estimate error; 0 charges the estimate)
 */
public record PlannerSettings(
    boolean plannerOn,
    Optional<String> convAlgorithm,
    Optional<TensorLayout> layout,
    boolean fusionOn,
    Checkpointing checkpointing,
    OptionalInt threads,
    Precision precision,
    double conversionMargin) {

  /** Setting keys, as written in {@code SET key = value}. */
  public static final String PLANNER = "planner";
  public static final String CONV_ALGORITHM = "conv_algorithm";
  public static final String LAYOUT = "layout";
  public static final String FUSION = "fusion";
  public static final String CHECKPOINTING = "checkpointing";
  public static final String THREADS = "threads";
  public static final String PRECISION = "precision";
  public static final String CONVERSION_MARGIN = "conversion_margin";

  /**
   * The default {@code conversion_margin}: a conversion is charged 2.5 times its estimate when the
   * search compares plans. Measured in the quiet two-thread EstimateBench run (bench/README.md,
   * "Estimates against measurements"): the 14 layers that convert an input ran 1.0 to 2.6 times
   * their estimate (median 1.56), most convolutions 1.0 to 1.4 times; 2.5 covers the
   * worst, so a layout change is taken only when it still pays if its conversions cost that much.
   */
  public static final double DEFAULT_CONVERSION_MARGIN = 1.5;

  /** The value that leaves a choice to the planner. */
  public static final String AUTO = "auto";

  /** How activations are checkpointed under a memory limit. */
  public enum Checkpointing {
    /** Keep every activation; a memory limit below the peak is an error. */
    OFF,
    /** The schedule with the least recomputation that fits the limit. */
    OPTIMAL,
    /** Chen et al.'s baseline: a checkpoint every sqrt(n) stages, whatever the limit. */
    SQRT
  }

  /** Everything left to the planner. */
  public static final PlannerSettings DEFAULTS =
      new PlannerSettings(true, Optional.empty(), Optional.empty(), true, Checkpointing.OPTIMAL,
          OptionalInt.empty(), Precision.FP32, DEFAULT_CONVERSION_MARGIN);

  /** Reads the planner's keys from a session's settings (keys case-insensitive). */
  public static PlannerSettings of(Map<String, String> settings) {
    Map<String, String> s = new LinkedHashMap<>();
    settings.forEach((k, v) -> s.put(k.toLowerCase(Locale.ROOT).trim(), v == null ? null : v.trim()));
    boolean planner = bool(s, PLANNER, true);
    Optional<String> algorithm = Optional.ofNullable(s.get(CONV_ALGORITHM))
        .filter(v -> !v.equalsIgnoreCase(AUTO))
        .map(v -> v.toLowerCase(Locale.ROOT));
    Optional<TensorLayout> layout = Optional.ofNullable(s.get(LAYOUT))
        .filter(v -> !v.equalsIgnoreCase(AUTO))
        .map(TensorLayout::parse);
    boolean fusion = bool(s, FUSION, true);
    Checkpointing checkpointing = checkpointing(s.get(CHECKPOINTING));
    OptionalInt threads = threads(s.get(THREADS));
    Precision precision = precision(s.get(PRECISION));
    double margin = conversionMargin(s.get(CONVERSION_MARGIN));
    return new PlannerSettings(planner, algorithm, layout, fusion, checkpointing, threads, precision, margin);
  }

  private static boolean bool(Map<String, String> s, String key, boolean dflt) {
    String v = s.get(key);
    if (v == null || v.equalsIgnoreCase(AUTO)) {
      return dflt;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "on", "true" -> true;
      case "off", "false" -> false;
      default -> throw new UserException(key + " must be on or off, got '" + v + "'");
    };
  }

  private static Checkpointing checkpointing(String v) {
    if (v == null || v.equalsIgnoreCase(AUTO)) {
      return Checkpointing.OPTIMAL;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "off", "false" -> Checkpointing.OFF;
      case "on", "true", "optimal" -> Checkpointing.OPTIMAL;
      case "sqrt" -> Checkpointing.SQRT;
      default ->
          throw new UserException(CHECKPOINTING + " must be off, optimal or sqrt, got '" + v + "'");
    };
  }

  private static OptionalInt threads(String v) {
    if (v == null || v.equalsIgnoreCase(AUTO)) {
      return OptionalInt.empty();
    }
    try {
      int t = Integer.parseInt(v);
      if (t >= 1) {
        return OptionalInt.of(t);
      }
    } catch (NumberFormatException e) {
      // falls through to the message below
    }
    throw new UserException(THREADS + " must be auto or a positive integer, got '" + v + "'");
  }

  private static double conversionMargin(String v) {
    if (v == null || v.equalsIgnoreCase(AUTO)) {
      return DEFAULT_CONVERSION_MARGIN;
    }
    try {
      double m = Double.parseDouble(v);
      if (m >= 0 && Double.isFinite(m)) {
        return m;
      }
    } catch (NumberFormatException e) {
      // falls through to the message below
    }
    throw new UserException(CONVERSION_MARGIN + " must be auto or a number >= 0 (how many times its estimate a"
        + " layout conversion is charged on top, when plans are compared), got '" + v + "'");
  }

  private static Precision precision(String v) {
    if (v == null || v.equalsIgnoreCase(AUTO) || v.equalsIgnoreCase("fp32")) {
      return Precision.FP32;
    }
    if (v.equalsIgnoreCase("bf16") || v.equalsIgnoreCase("int8")) {
      throw new UserException(
          PRECISION + " " + v.toLowerCase(Locale.ROOT)
              + " is for compressed models (COMPRESS MODEL ... USING QUANTIZE); plans of fp32 models"
              + " compute in fp32");
    }
    throw new UserException(PRECISION + " must be auto or fp32, got '" + v + "'");
  }

  /** These settings as {@code key=value} pairs that differ from the defaults, for plan headers. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    if (!plannerOn) {
      b.append(" planner=off");
    }
    convAlgorithm.ifPresent(a -> b.append(" conv_algorithm=").append(a));
    layout.ifPresent(l -> b.append(" layout=").append(l.sqlName()));
    if (!fusionOn) {
      b.append(" fusion=off");
    }
    if (checkpointing != Checkpointing.OPTIMAL) {
      b.append(" checkpointing=").append(checkpointing.name().toLowerCase(Locale.ROOT));
    }
    threads.ifPresent(t -> b.append(" threads=").append(t));
    if (conversionMargin != DEFAULT_CONVERSION_MARGIN) {
      b.append(" conversion_margin=").append(conversionMargin);
    }
    return b.isEmpty() ? "defaults" : b.substring(1);
  }
}
