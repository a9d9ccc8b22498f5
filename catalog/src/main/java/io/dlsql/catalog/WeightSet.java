package io.dlsql.catalog;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.SequencedMap;

/**
 * The weights (or the full training state) of a model: an ordered map from array name (e.g. {@code
 * "conv1.weight"}) to array. The order is the order arrays were added and is preserved on disk.
 */
public record WeightSet(SequencedMap<String, NDArray> arrays) {
  public WeightSet {
    arrays = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(arrays));
  }

  /** An empty set. */
  public static WeightSet empty() {
    return new WeightSet(new LinkedHashMap<>());
  }

  /** The array of that name, or an IllegalStateException naming what is there. */
  public NDArray get(String name) {
    NDArray a = arrays.get(name);
    if (a == null) {
      throw new IllegalStateException("no weight array '" + name + "'; have " + arrays.keySet());
    }
    return a;
  }

  /** A new set with one more (or one replaced) array, appended at the end. */
  public WeightSet with(String name, NDArray array) {
    LinkedHashMap<String, NDArray> m = new LinkedHashMap<>(arrays);
    m.put(name, array);
    return new WeightSet(m);
  }

  /** Total elements over all arrays. */
  public long elementCount() {
    return arrays.values().stream().mapToLong(NDArray::elementCount).sum();
  }

  /** Total data bytes over all arrays. */
  public long byteSize() {
    return arrays.values().stream().mapToLong(NDArray::byteSize).sum();
  }
}
