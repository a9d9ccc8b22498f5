package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Unstructured L1-magnitude pruning of convolution and dense weights: the weights of smallest
 * absolute value are pruned until the target fraction is reached, either over all such weights
 * together ({@link Scope#GLOBAL}) or in each layer separately ({@link Scope#LAYER}). Exactly
 * {@code round(sparsity * count)} weights are pruned; ties are broken by position, so the result
 * is deterministic.
 */
public final class MagnitudePruning {
  private MagnitudePruning() {}

  /** Over which weights the smallest ones are chosen. */
  public enum Scope {
    GLOBAL,
    LAYER;

    /** {@code 'global'} or {@code 'layer'} (also {@code 'layerwise'}), any case. */
    public static Scope parse(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "global" -> GLOBAL;
        case "layer", "layerwise", "layer_wise", "local" -> LAYER;
        default -> throw new UserException("pruning scope must be 'global' or 'layer', got '" + s + "'");
      };
    }
  }

  /** Checks a target sparsity: a fraction in [0, 1). */
  public static void checkSparsity(double sparsity) {
    if (!(sparsity >= 0 && sparsity < 1)) {
      throw new UserException("sparsity must be in [0, 1), got " + sparsity);
    }
  }

  /** The state-dict names of the weights pruning applies to: every convolution and dense weight, in node order. */
  public static List<String> prunableWeights(NetworkSpec spec) {
    List<String> out = new ArrayList<>();
    for (Node n : spec.nodes()) {
      if (n.op() == Op.CONV2D || n.op() == Op.DENSE) {
        out.add(n.name() + ".weight");
      }
    }
    return out;
  }

  /** The mask that prunes {@code sparsity} of the weights by magnitude. */
  public static PruningMask unstructured(NetworkSpec spec, Map<String, float[]> state, double sparsity, Scope scope) {
    checkSparsity(sparsity);
    List<String> names = prunableWeights(spec);
    LinkedHashMap<String, boolean[]> keep = new LinkedHashMap<>();
    for (String n : names) {
      float[] w = BatchNormFolding.require(state, n);
      boolean[] k = new boolean[w.length];
      Arrays.fill(k, true);
      keep.put(n, k);
    }
    if (scope == Scope.LAYER) {
      for (String n : names) {
        float[] w = state.get(n);
        pruneSmallest(List.of(w), List.of(keep.get(n)), Math.round(sparsity * w.length));
      }
    } else {
      long total = 0;
      List<float[]> all = new ArrayList<>();
      List<boolean[]> masks = new ArrayList<>();
      for (String n : names) {
        all.add(state.get(n));
        masks.add(keep.get(n));
        total += state.get(n).length;
      }
      pruneSmallest(all, masks, Math.round(sparsity * total));
    }
    return new PruningMask(keep);
  }

  /** Marks the {@code count} smallest |w| over all tensors as pruned (ties: earlier tensor, then earlier index). */
  private static void pruneSmallest(List<float[]> tensors, List<boolean[]> masks, long count) {
    if (count == 0) {
      return;
    }
    int total = tensors.stream().mapToInt(t -> t.length).sum();
    // Sort (|w|, position) pairs packed in a long: |w| bits are ordered like the values for non-negative floats.
    long[] keys = new long[total];
    int[] base = new int[tensors.size()];
    int at = 0;
    for (int t = 0; t < tensors.size(); t++) {
      base[t] = at;
      for (float v : tensors.get(t)) {
        keys[at] = ((long) Float.floatToIntBits(Math.abs(v)) << Integer.SIZE) | at;
        at++;
      }
    }
    Arrays.sort(keys);
    for (int i = 0; i < count; i++) {
      int position = (int) keys[i];
      int t = tensorOf(base, position);
      masks.get(t)[position - base[t]] = false;
    }
  }

  private static int tensorOf(int[] base, int position) {
    int i = Arrays.binarySearch(base, position);
    if (i >= 0) {
      // Several empty tensors can share a base; the owner is the last one starting here.
      while (i + 1 < base.length && base[i + 1] == position) {
        i++;
      }
      return i;
    }
    return -i - 2;
  }
}
