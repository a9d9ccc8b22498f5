package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Structured L1 pruning: whole convolution filters and dense units with the smallest L1 weight
 * norm are removed, giving a physically smaller {@link NetworkSpec} and state dict. A removed
 * channel is followed through the operators that keep channels apart (batchnorm, activations,
 * pooling, dropout, depthwise convolutions, global pooling, flatten) to the layers that read it
 * (convolutions lose that input channel, dense layers the matching features).
 *
 * <p>A layer whose output reaches an ADD or CONCAT (a residual block's last convolution and its
 * shortcut), a grouped convolution or the model output is not pruned: removing its channels would
 * need the same channels removed from every other input of the sum, so it is skipped with the
 * reason in {@link Result#skipped()}. In ResNets this prunes the inner convolution of every block.
 * With {@link MagnitudePruning.Scope#GLOBAL} scores are each layer's filter norms divided by that
 * layer's mean norm, so layers of different fan-in compare fairly; every layer keeps at least one
 * channel.
 */
public final class StructuredPruning {
  private StructuredPruning() {}

  /** The smaller model, how many channels each pruned layer keeps, and why other layers were left alone. */
  public record Result(
      NetworkSpec spec, LinkedHashMap<String, float[]> weights, LinkedHashMap<String, Integer> keptChannels,
      LinkedHashMap<String, String> skipped) {}

  /** A layer that reads pruned channels: which input index space it sees, and the block size per channel. */
  private record Reader(int node, int block) {}

  /** Everything downstream of one prunable layer's channels. */
  private record Region(int producer, List<Integer> passThrough, List<Integer> passBlocks, List<Reader> readers) {}

  /** Removes {@code fraction} of the channels of every prunable layer (LAYER) or of all of them together (GLOBAL). */
  public static Result prune(NetworkSpec spec, Map<String, float[]> state, double fraction, MagnitudePruning.Scope scope) {
    MagnitudePruning.checkSparsity(fraction);
    List<Node> nodes = spec.nodes();
    List<LayerSpec> layers = spec.layerSpecs();
    LinkedHashMap<String, int[]> shapes = spec.shapes();
    List<List<Integer>> consumers = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      consumers.add(new ArrayList<>());
    }
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : nodes.get(i).inputs()) {
        int j = spec.indexOf(in);
        if (j >= 0) {
          consumers.get(j).add(i);
        }
      }
    }
    LinkedHashMap<String, String> skipped = new LinkedHashMap<>();
    List<Region> regions = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      boolean candidate = n.op() == Op.DENSE
          || (n.op() == Op.CONV2D && ((LayerSpec.Conv2d) layers.get(i)).groups() == 1);
      if (!candidate) {
        continue;
      }
      if (shapes.get(n.name())[0] < 2) {
        skipped.put(n.name(), "it has a single channel");
        continue;
      }
      String[] reason = new String[1];
      Region r = trace(spec, layers, shapes, consumers, i, reason);
      if (r == null) {
        skipped.put(n.name(), reason[0]);
      } else {
        regions.add(r);
      }
    }
    if (regions.isEmpty()) {
      throw new UserException("no layer can be pruned structurally: " + describe(skipped));
    }
    // Scores per region: L1 norm of each output channel's weights.
    List<double[]> scores = new ArrayList<>();
    for (Region r : regions) {
      Node n = nodes.get(r.producer());
      float[] w = BatchNormFolding.require(state, n.name() + ".weight");
      int channels = shapes.get(n.name())[0];
      int per = w.length / channels;
      double[] s = new double[channels];
      for (int o = 0; o < channels; o++) {
        for (int j = 0; j < per; j++) {
          s[o] += Math.abs(w[o * per + j]);
        }
      }
      scores.add(s);
    }
    List<boolean[]> keep = choose(scores, fraction, scope);
    // Rewrite weights and attributes region by region.
    LinkedHashMap<String, float[]> w = new LinkedHashMap<>();
    state.forEach((k, v) -> w.put(k, v.clone()));
    Map<Integer, Map<String, Object>> attrs = new HashMap<>();
    LinkedHashMap<String, Integer> kept = new LinkedHashMap<>();
    for (int ri = 0; ri < regions.size(); ri++) {
      Region r = regions.get(ri);
      int[] k = indices(keep.get(ri));
      Node producer = nodes.get(r.producer());
      int channels = shapes.get(producer.name())[0];
      kept.put(producer.name(), k.length);
      sliceRows(w, producer.name() + ".weight", channels, k);
      sliceRows(w, producer.name() + ".bias", channels, k);
      attrsOf(attrs, nodes, r.producer()).put(producer.op() == Op.DENSE ? "units" : "out_channels", k.length);
      for (int p = 0; p < r.passThrough().size(); p++) {
        int idx = r.passThrough().get(p);
        Node n = nodes.get(idx);
        int[] expanded = expand(k, r.passBlocks().get(p));
        int size = channels * r.passBlocks().get(p);
        if (n.op() == Op.BATCHNORM2D) {
          for (String suffix : List.of(".weight", ".bias", ".running_mean", ".running_var")) {
            sliceRows(w, n.name() + suffix, size, expanded);
          }
        } else if (n.op() == Op.CONV2D) {
          // A depthwise convolution: one filter per channel, so it loses the same channels.
          sliceRows(w, n.name() + ".weight", channels, k);
          sliceRows(w, n.name() + ".bias", channels, k);
          Map<String, Object> a = attrsOf(attrs, nodes, idx);
          a.put("out_channels", k.length);
          a.put("groups", k.length);
        }
      }
      for (Reader reader : r.readers()) {
        Node n = nodes.get(reader.node());
        int[] in = shapes.get(n.inputs().get(0));
        // Dense weights (U, F): a channel is `block` consecutive features. Convolution weights
        // (O, C, KH, KW) as rows of C * KH * KW: a channel is KH * KW consecutive columns.
        int columns = n.op() == Op.DENSE ? Math.toIntExact(GraphExecutor.numel(in))
            : in[0] * kernelArea(layers.get(reader.node()));
        int block = n.op() == Op.DENSE ? reader.block() : kernelArea(layers.get(reader.node()));
        sliceColumns(w, n.name() + ".weight", columns, expand(k, block));
      }
    }
    List<Node> rewritten = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      rewritten.add(attrs.containsKey(i) ? new Node(n.name(), n.op(), attrs.get(i), n.inputs()) : n);
    }
    NetworkSpec smaller = new NetworkSpec(spec.inputName(), spec.inputShape(), spec.classes(), rewritten,
        spec.outputName());
    return new Result(smaller, w, kept, skipped);
  }

  /**
   * Follows the channels of node {@code producer} downstream; null (with the reason) when they
   * reach something that cannot lose channels on its own.
   */
  private static Region trace(NetworkSpec spec, List<LayerSpec> layers, Map<String, int[]> shapes,
      List<List<Integer>> consumers, int producer, String[] reason) {
    List<Node> nodes = spec.nodes();
    if (nodes.get(producer).name().equals(spec.outputName())) {
      reason[0] = "it is the output layer";
      return null;
    }
    List<Integer> pass = new ArrayList<>();
    List<Integer> passBlocks = new ArrayList<>();
    List<Reader> readers = new ArrayList<>();
    // Work list of (node reading the channels, block size of one channel in its input so far).
    List<int[]> work = new ArrayList<>();
    for (int c : consumers.get(producer)) {
      work.add(new int[] {c, 1});
    }
    while (!work.isEmpty()) {
      int[] item = work.removeLast();
      int i = item[0];
      int block = item[1];
      Node n = nodes.get(i);
      int[] in = shapes.get(n.inputs().get(0));
      LayerSpec ls = layers.get(i);
      switch (n.op()) {
        case ADD, CONCAT -> {
          reason[0] = "its channels reach " + n.op().sqlName() + " " + n.name()
              + ", whose other inputs would need the same channels removed";
          return null;
        }
        case CONV2D -> {
          LayerSpec.Conv2d c = (LayerSpec.Conv2d) ls;
          if (c.groups() == 1) {
            readers.add(new Reader(i, 1));
            continue;
          }
          if (c.groups() != in[0] || c.outChannels() != in[0]) {
            reason[0] = "its channels reach the grouped convolution " + n.name();
            return null;
          }
          pass.add(i);
          passBlocks.add(1);
        }
        case DENSE -> {
          readers.add(new Reader(i, in.length == 3 ? in[1] * in[2] : block));
          continue;
        }
        case FLATTEN -> {
          pass.add(i);
          passBlocks.add(block);
          block = in.length == 3 ? in[1] * in[2] : block;
        }
        case BATCHNORM2D, RELU, LEAKY_RELU, SIGMOID, TANH, MAXPOOL2D, AVGPOOL2D, GLOBAL_AVGPOOL, DROPOUT -> {
          pass.add(i);
          passBlocks.add(in.length == 3 ? 1 : block);
          if (n.op() == Op.GLOBAL_AVGPOOL) {
            block = 1;
          }
        }
      }
      if (n.name().equals(spec.outputName())) {
        reason[0] = "its channels reach the model output";
        return null;
      }
      for (int c : consumers.get(i)) {
        work.add(new int[] {c, block});
      }
    }
    return new Region(producer, pass, passBlocks, readers);
  }

  private static int kernelArea(LayerSpec ls) {
    LayerSpec.Conv2d c = (LayerSpec.Conv2d) ls;
    return c.kernelH() * c.kernelW();
  }

  /** Which channels each region keeps. */
  private static List<boolean[]> choose(List<double[]> scores, double fraction, MagnitudePruning.Scope scope) {
    List<boolean[]> keep = new ArrayList<>();
    for (double[] s : scores) {
      boolean[] k = new boolean[s.length];
      Arrays.fill(k, true);
      keep.add(k);
    }
    if (scope == MagnitudePruning.Scope.LAYER) {
      for (int r = 0; r < scores.size(); r++) {
        double[] s = scores.get(r);
        int remove = (int) Math.min(s.length - 1, Math.round(fraction * s.length));
        Integer[] order = order(s);
        for (int i = 0; i < remove; i++) {
          keep.get(r)[order[i]] = false;
        }
      }
      return keep;
    }
    // Global: normalised scores across all regions, smallest first, each region keeps at least one.
    List<double[]> all = new ArrayList<>();
    int total = 0;
    for (int r = 0; r < scores.size(); r++) {
      double[] s = scores.get(r);
      double mean = Arrays.stream(s).average().orElse(1);
      for (int o = 0; o < s.length; o++) {
        all.add(new double[] {mean > 0 ? s[o] / mean : 0, r, o});
      }
      total += s.length;
    }
    all.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0])
        : a[1] != b[1] ? Double.compare(a[1], b[1]) : Double.compare(a[2], b[2]));
    long remove = Math.round(fraction * total);
    int[] left = scores.stream().mapToInt(s -> s.length).toArray();
    for (double[] e : all) {
      if (remove == 0) {
        break;
      }
      int r = (int) e[1];
      if (left[r] > 1) {
        keep.get(r)[(int) e[2]] = false;
        left[r]--;
        remove--;
      }
    }
    return keep;
  }

  private static Integer[] order(double[] s) {
    Integer[] idx = new Integer[s.length];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> s[a] != s[b] ? Double.compare(s[a], s[b]) : Integer.compare(a, b));
    return idx;
  }

  private static int[] indices(boolean[] keep) {
    int[] out = new int[(int) java.util.stream.IntStream.range(0, keep.length).filter(i -> keep[i]).count()];
    int j = 0;
    for (int i = 0; i < keep.length; i++) {
      if (keep[i]) {
        out[j++] = i;
      }
    }
    return out;
  }

  /** Channel indices expanded to feature indices, {@code block} consecutive features per channel. */
  private static int[] expand(int[] channels, int block) {
    int[] out = new int[channels.length * block];
    for (int c = 0; c < channels.length; c++) {
      for (int b = 0; b < block; b++) {
        out[c * block + b] = channels[c] * block + b;
      }
    }
    return out;
  }

  private static Map<String, Object> attrsOf(Map<Integer, Map<String, Object>> attrs, List<Node> nodes, int i) {
    return attrs.computeIfAbsent(i, k -> new LinkedHashMap<>(nodes.get(k).attrs()));
  }

  /** Keeps rows {@code keep} of a tensor of {@code rows} rows (absent tensors, such as a missing bias, are skipped). */
  private static void sliceRows(Map<String, float[]> w, String name, int rows, int[] keep) {
    float[] v = w.get(name);
    if (v == null) {
      return;
    }
    int per = v.length / rows;
    float[] out = new float[keep.length * per];
    for (int i = 0; i < keep.length; i++) {
      System.arraycopy(v, keep[i] * per, out, i * per, per);
    }
    w.put(name, out);
  }

  /** Keeps columns {@code keep} of a row-major tensor with {@code columns} columns. */
  private static void sliceColumns(Map<String, float[]> w, String name, int columns, int[] keep) {
    float[] v = BatchNormFolding.require(w, name);
    int rows = v.length / columns;
    float[] out = new float[rows * keep.length];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < keep.length; i++) {
        out[r * keep.length + i] = v[r * columns + keep[i]];
      }
    }
    w.put(name, out);
  }

  private static String describe(Map<String, String> skipped) {
    StringBuilder sb = new StringBuilder();
    skipped.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : "; ").append(k).append(": ").append(v));
    return sb.toString();
  }
}
