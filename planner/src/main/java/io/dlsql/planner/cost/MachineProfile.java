package io.dlsql.planner.cost;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The machine's ceilings per thread count: GEMM GFLOP/s (what the executor's GEMM reaches on a
 * large square problem) and memory bandwidth in GB/s (a large copy). Measured once by {@link
 * Calibration} and kept in the catalog's tuning records under keys {@code
 * machine:<fingerprint>:t<threads>}, the fingerprint being {@link KernelFingerprint#current()}: a
 * profile measured with other executor code is not read back.
 */
public record MachineProfile(NavigableMap<Integer, Ceilings> byThreads) {
  /** Tuning record key prefix for machine ceilings, followed by the kernel fingerprint. */
  public static final String KEY_PREFIX = "machine:";
  static final String GEMM_GFLOPS = "gemm_gflops";
  static final String BANDWIDTH_GBS = "bandwidth_gbs";

  /** One thread count's ceilings. */
  public record Ceilings(double gemmGflops, double bandwidthGbs) {
    public Ceilings {
      if (!(gemmGflops > 0) || !(bandwidthGbs > 0)) {
        throw new IllegalArgumentException("ceilings must be positive: " + gemmGflops + ", " + bandwidthGbs);
      }
    }
  }

  public MachineProfile {
    if (byThreads.isEmpty() || byThreads.firstKey() != 1) {
      throw new IllegalArgumentException("a machine profile needs ceilings for 1 thread: " + byThreads);
    }
    byThreads = new TreeMap<>(byThreads);
  }

  /**
   * A fixed profile for plan tests and for machines not yet calibrated: 1 and 2 threads of a
   * small AVX2 machine (values chosen once, not measured, so golden plans do not change).
   */
  public static MachineProfile nominal() {
    TreeMap<Integer, Ceilings> m = new TreeMap<>();
    m.put(1, new Ceilings(40, 10));
    m.put(2, new Ceilings(75, 14));
    return new MachineProfile(m);
  }

  /** The ceilings at {@code threads}: the measured count at or below it. */
  public Ceilings ceilings(int threads) {
    Map.Entry<Integer, Ceilings> e = byThreads.floorEntry(Math.max(1, threads));
    return e.getValue();
  }

  /** The largest thread count measured. */
  public int maxThreads() {
    return byThreads.lastKey();
  }

  /** The profile as tuning records, one per thread count. */
  public Map<String, Map<String, String>> toTuningRecords() {
    return toTuningRecords(KernelFingerprint.current());
  }

  /** The profile as tuning records for the executor code identified by {@code fingerprint}. */
  public Map<String, Map<String, String>> toTuningRecords(String fingerprint) {
    String prefix = keyPrefix(fingerprint);
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    byThreads.forEach((t, c) -> out.put(prefix + t, Map.of(
        GEMM_GFLOPS, Double.toString(c.gemmGflops()),
        BANDWIDTH_GBS, Double.toString(c.bandwidthGbs()))));
    return out;
  }

  /**
   * The profile stored in {@code records} for this process's executor code, or null when none (or
   * no 1-thread entry) is there.
   */
  public static MachineProfile fromTuningRecords(Map<String, Map<String, String>> records) {
    return fromTuningRecords(records, KernelFingerprint.current());
  }

  /** The profile stored in {@code records} for the executor code identified by {@code fingerprint}. */
  public static MachineProfile fromTuningRecords(Map<String, Map<String, String>> records, String fingerprint) {
    String prefix = keyPrefix(fingerprint);
    TreeMap<Integer, Ceilings> m = new TreeMap<>();
    for (Map.Entry<String, Map<String, String>> e : records.entrySet()) {
      if (!e.getKey().startsWith(prefix)) {
        continue;
      }
      try {
        int threads = Integer.parseInt(e.getKey().substring(prefix.length()));
        m.put(threads, new Ceilings(Double.parseDouble(e.getValue().get(GEMM_GFLOPS)),
            Double.parseDouble(e.getValue().get(BANDWIDTH_GBS))));
      } catch (RuntimeException bad) {
        // A damaged record is ignored: calibration runs again and replaces it.
      }
    }
    return m.containsKey(1) ? new MachineProfile(m) : null;
  }

  private static String keyPrefix(String fingerprint) {
    return KEY_PREFIX + fingerprint + ":t";
  }
}
