package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.Shapes;
import io.dlsql.planner.physical.TensorLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Measured kernel times, as the catalog stores them ({@code Catalog.tuningRecords()}): one record
 * per (operator shape, implementation, layout, direction, threads), and one per layout conversion
 * (image shape, from, to, threads), holding nanoseconds per sample. The key names the shape, not the model, so every model with a layer of that shape
 * reuses the measurement; it also carries {@link KernelFingerprint#current()}, so measurements of
 * older executor code are not used once the kernels change.
 */
public final class TuningRecords {
  /** Tuning record key prefix for kernel timings. */
  public static final String KEY_PREFIX = "kernel:";
  /** Tuning record key prefix for layout conversion timings. */
  public static final String CONVERSION_PREFIX = "conversion:";
  /** Value keys. */
  public static final String NANOS_PER_SAMPLE = "nanos_per_sample";
  public static final String BATCH = "batch";

  private static final TuningRecords EMPTY = new TuningRecords(Map.of());

  private final Map<String, Map<String, String>> records;

  private TuningRecords(Map<String, Map<String, String>> records) {
    this.records = Map.copyOf(records);
  }

  /** No measurements: every time comes from the roofline. */
  public static TuningRecords empty() {
    return EMPTY;
  }

  /** The records of a catalog (machine ceilings and other keys are ignored here). */
  public static TuningRecords of(Map<String, Map<String, String>> records) {
    return new TuningRecords(records);
  }

  /** The key of one measurement. */
  public static String key(LogicalNode node, Implementation impl, Direction direction, int threads) {
    return KEY_PREFIX + KernelFingerprint.current() + ":" + node.op().specName() + ":" + signature(node) + ":" + impl.key() + ":"
        + direction.key() + ":t" + threads;
  }

  /**
   * The key of one conversion measurement: a batch of images of per-sample {@code shape} rewritten
   * from {@code from} into {@code to} on {@code threads} threads.
   */
  public static String conversionKey(int[] shape, TensorLayout from, TensorLayout to, int threads) {
    return CONVERSION_PREFIX + KernelFingerprint.current() + ":" + Shapes.format(shape) + ":" + from.sqlName() + "->"
        + to.sqlName() + ":t" + threads;
  }

  /** A record value: the measured time per sample at the batch it was measured with. */
  public static Map<String, String> value(double nanosPerSample, int batch) {
    Map<String, String> v = new LinkedHashMap<>();
    v.put(NANOS_PER_SAMPLE, Double.toString(nanosPerSample));
    v.put(BATCH, Integer.toString(batch));
    return v;
  }

  /** Everything about a node that its kernel time depends on, in a stable text form. */
  static String signature(LogicalNode node) {
    StringBuilder b = new StringBuilder();
    for (int[] in : node.inputShapes()) {
      b.append(Shapes.format(in)).append(',');
    }
    b.append(Shapes.format(node.outputShape()));
    if (node.spec() instanceof LayerSpec.Conv2d c) {
      ConvGeometry g = node.geometry();
      b.append(",k").append(g.kernelH()).append('x').append(g.kernelW())
          .append(",s").append(g.strideH()).append('x').append(g.strideW())
          .append(",p").append(g.padTop()).append('x').append(g.padLeft())
          .append(",d").append(g.dilationH()).append('x').append(g.dilationW())
          .append(",g").append(g.groups()).append(c.bias() ? ",bias" : "");
    } else if (node.spec() instanceof LayerSpec.Pool p) {
      b.append(p.max() ? ",max" : ",avg").append(",k").append(p.kernelH()).append('x').append(p.kernelW())
          .append(",s").append(p.strideH()).append('x').append(p.strideW())
          .append(",p").append(p.padH()).append('x').append(p.padW());
    } else if (node.spec() instanceof LayerSpec.Dense d) {
      b.append(d.bias() ? ",bias" : "");
    } else if (node.spec() instanceof LayerSpec.Activation a) {
      b.append(",").append(a.kind().specName());
    }
    return b.toString();
  }

  /** Measured nanoseconds per sample, when this exact measurement exists. */
  public OptionalDouble nanosPerSample(LogicalNode node, Implementation impl, Direction direction, int threads) {
    return read(key(node, impl, direction, threads));
  }

  /** Measured nanoseconds per sample of a conversion, when this exact measurement exists. */
  public OptionalDouble conversionNanosPerSample(int[] shape, TensorLayout from, TensorLayout to, int threads) {
    return read(conversionKey(shape, from, to, threads));
  }

  private OptionalDouble read(String key) {
    Map<String, String> v = records.get(key);
    if (v == null || v.get(NANOS_PER_SAMPLE) == null) {
      return OptionalDouble.empty();
    }
    try {
      return OptionalDouble.of(Double.parseDouble(v.get(NANOS_PER_SAMPLE)));
    } catch (NumberFormatException e) {
      return OptionalDouble.empty();
    }
  }

  /** The thread counts kernels of this process's executor code were measured at (empty: none measured). */
  public java.util.SortedSet<Integer> measuredThreadCounts() {
    String kernel = KEY_PREFIX + KernelFingerprint.current() + ":";
    java.util.SortedSet<Integer> out = new java.util.TreeSet<>();
    for (String k : records.keySet()) {
      int at = k.lastIndexOf(":t");
      if (k.startsWith(kernel) && at > 0) {
        try {
          out.add(Integer.parseInt(k.substring(at + 2)));
        } catch (NumberFormatException e) {
          // not a key this class wrote; ignored like any other foreign record
        }
      }
    }
    return out;
  }

  /** How many kernel and conversion measurements of this process's executor code there are. */
  public int size() {
    String kernel = KEY_PREFIX + KernelFingerprint.current() + ":";
    String conversion = CONVERSION_PREFIX + KernelFingerprint.current() + ":";
    return (int) records.keySet().stream().filter(k -> k.startsWith(kernel) || k.startsWith(conversion)).count();
  }
}
