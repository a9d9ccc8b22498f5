package io.dlsql.executor.train;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.layer.InitScheme;
import io.dlsql.executor.optim.Adam;
import io.dlsql.executor.optim.LearningRateSchedule;
import io.dlsql.executor.optim.Optimizer;
import io.dlsql.executor.optim.Sgd;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The options of one training run, checked. {@link #fromMap} reads the {@code WITH (...)} options
 * of TRAIN (keys case-insensitive) with PyTorch-like defaults: SGD, learning rate 0.01 (0.001 for
 * Adam/AdamW), momentum 0, batch 64, one epoch, seed 0, shuffled, no validation.
 *
 * @param threads kernel threads; 0 means all cores
 * @param clipNorm maximum global gradient norm; 0 means no clipping
 * @param earlyStopping patience in epochs without a better validation accuracy; 0 means off
 * @param memoryLimitBytes a budget for the planner (activation checkpointing); 0 means none
 */
public record TrainOptions(
    int epochs,
    int batchSize,
    String optimizer,
    double learningRate,
    double momentum,
    boolean nesterov,
    double weightDecay,
    String schedule,
    int stepSize,
    double gamma,
    int warmupEpochs,
    double clipNorm,
    double labelSmoothing,
    long seed,
    double validation,
    boolean shuffle,
    boolean augment,
    int cropPadding,
    boolean flip,
    int earlyStopping,
    int threads,
    InitScheme init,
    long memoryLimitBytes) {

  /** Every option {@link #fromMap} knows. */
  public static final List<String> KNOWN = List.of(
      "epochs", "batch_size", "optimizer", "learning_rate", "momentum", "nesterov", "weight_decay",
      "schedule", "step_size", "gamma", "warmup_epochs", "clip_norm", "label_smoothing", "seed",
      "validation", "shuffle", "augment", "crop_padding", "flip", "early_stopping", "threads",
      "init", "memory_limit");

  private static final double SGD_DEFAULT_LR = 0.01;
  private static final double ADAM_DEFAULT_LR = 0.001;
  private static final int DEFAULT_BATCH = 64;
  private static final double DEFAULT_GAMMA = 0.1;
  private static final int DEFAULT_CROP_PADDING = 4;
  private static final Pattern MEMORY = Pattern.compile("(?i)\\s*(\\d+(?:\\.\\d+)?)\\s*([KMGT]?)I?B?\\s*");

  /** The defaults. */
  public static TrainOptions defaults() {
    return fromMap(Map.of());
  }

  /** Reads and checks options; every problem is a {@link UserException} naming the option. */
  public static TrainOptions fromMap(Map<String, Object> raw) {
    Map<String, Object> o = new HashMap<>();
    for (Map.Entry<String, Object> e : raw.entrySet()) {
      String key = e.getKey().toLowerCase(Locale.ROOT);
      if (!KNOWN.contains(key)) {
        throw new UserException(
            "unknown training option " + e.getKey() + "; known options: " + String.join(", ", new TreeSet<>(KNOWN)));
      }
      if (o.put(key, e.getValue()) != null) {
        throw new UserException("training option " + key + " is given twice");
      }
    }
    String optimizer = choice(o, "optimizer", "sgd", "sgd", "adam", "adamw");
    boolean adam = !optimizer.equals("sgd");
    int epochs = integer(o, "epochs", 1, 1, Integer.MAX_VALUE);
    String schedule = choice(o, "schedule", "constant", "constant", "step", "cosine");
    int stepSize = integer(o, "step_size", 0, 1, Integer.MAX_VALUE);
    if (schedule.equals("step") && stepSize == 0) {
      throw new UserException("schedule 'step' needs step_size (epochs between decays)");
    }
    int warmup = integer(o, "warmup_epochs", 0, 0, Integer.MAX_VALUE);
    if (warmup > 0 && warmup >= epochs) {
      throw new UserException(
          "warmup_epochs (" + warmup + ") must be less than epochs (" + epochs + ")");
    }
    double momentum = number(o, "momentum", 0, 0, 1, true);
    boolean nesterov = bool(o, "nesterov", false);
    if (nesterov && (adam || momentum == 0)) {
      throw new UserException("nesterov needs optimizer 'sgd' with a positive momentum");
    }
    if (adam && o.containsKey("momentum")) {
      throw new UserException("momentum applies to optimizer 'sgd' only; Adam uses its own moments");
    }
    double validation = number(o, "validation", 0, 0, 1, true);
    int earlyStopping = integer(o, "early_stopping", 0, 0, Integer.MAX_VALUE);
    boolean augment = bool(o, "augment", false);
    if (!augment && (o.containsKey("crop_padding") || o.containsKey("flip"))) {
      throw new UserException("crop_padding and flip need augment = true");
    }
    Object init = o.get("init");
    if (init != null && !(init instanceof String)) {
      throw new UserException("init must be a string ('default', 'he' or 'xavier'), got " + init);
    }
    return new TrainOptions(
        epochs,
        integer(o, "batch_size", DEFAULT_BATCH, 1, Integer.MAX_VALUE),
        optimizer,
        number(o, "learning_rate", adam ? ADAM_DEFAULT_LR : SGD_DEFAULT_LR, 0, Double.MAX_VALUE, false, true),
        momentum,
        nesterov,
        number(o, "weight_decay", optimizer.equals("adamw") ? Adam.ADAMW_DEFAULT_WEIGHT_DECAY : 0, 0, 1, false),
        schedule,
        stepSize,
        number(o, "gamma", DEFAULT_GAMMA, 0, 1, false, true),
        warmup,
        number(o, "clip_norm", 0, 0, Double.MAX_VALUE, false, true),
        number(o, "label_smoothing", 0, 0, 1, true),
        longValue(o, "seed", 0),
        validation,
        bool(o, "shuffle", true),
        augment,
        integer(o, "crop_padding", augment ? DEFAULT_CROP_PADDING : 0, 0, 1 << 10),
        bool(o, "flip", augment),
        earlyStopping,
        integer(o, "threads", 0, 0, 1 << 12),
        init == null ? InitScheme.DEFAULT : InitScheme.parse((String) init),
        memory(o));
  }

  /** The optimizer these options ask for. */
  public Optimizer createOptimizer() {
    return switch (optimizer) {
      case "sgd" -> new Sgd(momentum, nesterov, weightDecay);
      case "adam" -> new Adam(Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPS, weightDecay, false);
      case "adamw" -> new Adam(Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPS, weightDecay, true);
      default -> throw new IllegalStateException(optimizer);
    };
  }

  /** The learning-rate schedule these options ask for. */
  public LearningRateSchedule createSchedule() {
    LearningRateSchedule main = switch (schedule) {
      case "constant" -> new LearningRateSchedule.Constant(learningRate);
      case "step" -> new LearningRateSchedule.Step(learningRate, stepSize, gamma);
      case "cosine" -> new LearningRateSchedule.Cosine(learningRate, epochs - warmupEpochs);
      default -> throw new IllegalStateException(schedule);
    };
    return warmupEpochs > 0 ? new LearningRateSchedule.Warmup(warmupEpochs, main) : main;
  }

  private static String choice(Map<String, Object> o, String key, String dflt, String... allowed) {
    Object v = o.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof String s) {
      String lower = s.toLowerCase(Locale.ROOT);
      for (String a : allowed) {
        if (a.equals(lower)) {
          return a;
        }
      }
    }
    throw new UserException(
        key + " must be one of '" + String.join("', '", allowed) + "', got " + describe(v));
  }

  private static String describe(Object v) {
    return v instanceof String s ? "'" + s + "'" : String.valueOf(v);
  }

  private static int integer(Map<String, Object> o, String key, int dflt, int min, int max) {
    if (o.get(key) == null) {
      return dflt;
    }
    long v = longValue(o, key, dflt);
    if (v < min || v > max) {
      throw new UserException(
          key + " must be " + (max == Integer.MAX_VALUE ? "at least " + min : "between " + min + " and " + max)
              + ", got " + v);
    }
    return (int) v;
  }

  private static long longValue(Map<String, Object> o, String key, long dflt) {
    Object v = o.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof BigDecimal d) {
      try {
        return d.longValueExact();
      } catch (ArithmeticException e) {
        throw new UserException(key + " must be an integer, got " + d.toPlainString());
      }
    }
    if ((v instanceof Double || v instanceof Float) && ((Number) v).doubleValue() == Math.rint(((Number) v).doubleValue())) {
      return (long) ((Number) v).doubleValue();
    }
    throw new UserException(key + " must be an integer, got " + describe(v));
  }

  private static double number(Map<String, Object> o, String key, double dflt, double min, double max, boolean maxExclusive) {
    return number(o, key, dflt, min, max, maxExclusive, false);
  }

  private static double number(
      Map<String, Object> o, String key, double dflt, double min, double max, boolean maxExclusive,
      boolean minExclusive) {
    Object v = o.get(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number n)) {
      throw new UserException(key + " must be a number, got " + describe(v));
    }
    double d = n.doubleValue();
    boolean ok = Double.isFinite(d) && (minExclusive ? d > min : d >= min) && (maxExclusive ? d < max : d <= max);
    if (!ok) {
      String lo = (minExclusive ? "(" : "[") + trim(min);
      String hi = max == Double.MAX_VALUE ? "infinity)" : trim(max) + (maxExclusive ? ")" : "]");
      throw new UserException(key + " must be in " + lo + ", " + hi + ", got " + n);
    }
    return d;
  }

  private static String trim(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static boolean bool(Map<String, Object> o, String key, boolean dflt) {
    Object v = o.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s && (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(s);
    }
    throw new UserException(key + " must be TRUE or FALSE, got " + describe(v));
  }

  private static long memory(Map<String, Object> o) {
    Object v = o.get("memory_limit");
    if (v == null) {
      return 0;
    }
    if (v instanceof Number) {
      return longValue(o, "memory_limit", 0);
    }
    Matcher m = v instanceof String s ? MEMORY.matcher(s) : null;
    if (m == null || !m.matches()) {
      throw new UserException("memory_limit must be bytes or a size such as '512MB' or '2GB', got " + describe(v));
    }
    String unit = m.group(2).toUpperCase(Locale.ROOT);
    int power = unit.isEmpty() ? 0 : "KMGT".indexOf(unit) + 1;
    return (long) (Double.parseDouble(m.group(1)) * Math.pow(1024, power));
  }
}
