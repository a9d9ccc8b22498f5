package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Folds each evaluation-mode batchnorm into the convolution before it: {@code W'[o] = W[o] *
 * s[o]}, {@code b'[o] = b[o] * s[o] + beta[o] - mean[o] * s[o]} with {@code s = gamma / sqrt(var
 * + eps)}. Only a batchnorm whose input is a convolution read by nothing else is folded (a
 * pre-activation batchnorm after an ADD stays a layer). The result is an ordinary spec and state
 * dict, so it runs on {@link io.dlsql.executor.graph.Network} unchanged.
 */
public final class BatchNormFolding {
  private BatchNormFolding() {}

  /** A spec and its weights, named as a state dict. */
  public record Folded(NetworkSpec spec, LinkedHashMap<String, float[]> weights) {}

  /** The spec with foldable batchnorms removed and their convolutions given the folded weights and a bias. */
  public static Folded fold(NetworkSpec spec, Map<String, float[]> weights) {
    LinkedHashMap<String, String> pairs = foldablePairs(spec);
    List<LayerSpec> layers = spec.layerSpecs();
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    weights.forEach((k, v) -> out.put(k, v.clone()));
    for (Map.Entry<String, String> pair : pairs.entrySet()) {
      String bn = pair.getKey();
      String conv = pair.getValue();
      LayerSpec.BatchNorm b = (LayerSpec.BatchNorm) layers.get(spec.indexOf(bn));
      int channels = spec.shapes().get(conv)[0];
      float[] w = require(out, conv + ".weight");
      float[] bias = out.get(conv + ".bias");
      float[] gamma = require(out, bn + ".weight");
      float[] beta = require(out, bn + ".bias");
      float[] mean = require(out, bn + ".running_mean");
      float[] var = require(out, bn + ".running_var");
      int per = w.length / channels;
      float[] newBias = new float[channels];
      for (int o = 0; o < channels; o++) {
        double s = gamma[o] / Math.sqrt(var[o] + b.eps());
        for (int j = 0; j < per; j++) {
          w[o * per + j] = (float) (w[o * per + j] * s);
        }
        newBias[o] = (float) ((bias == null ? 0 : bias[o]) * s + beta[o] - mean[o] * s);
      }
      out.put(conv + ".bias", newBias);
      for (String suffix : SUFFIXES) {
        out.remove(bn + suffix);
      }
    }
    NetworkSpec folded = foldedSpec(spec, pairs);
    // Keep the state dict in the folded spec's node order, as a network built from it would list it.
    LinkedHashMap<String, float[]> ordered = new LinkedHashMap<>();
    for (Node n : folded.nodes()) {
      for (String suffix : SUFFIXES) {
        float[] v = out.get(n.name() + suffix);
        if (v != null) {
          ordered.put(n.name() + suffix, v);
        }
      }
    }
    return new Folded(folded, ordered);
  }

  /** The spec {@link #fold} produces, without weights (for reopening a stored int8 model). */
  public static NetworkSpec foldedSpec(NetworkSpec spec) {
    return foldedSpec(spec, foldablePairs(spec));
  }

  private static final List<String> SUFFIXES = List.of(".weight", ".bias", ".running_mean", ".running_var");

  /** Batchnorm name to the convolution it folds into, in node order. */
  private static LinkedHashMap<String, String> foldablePairs(NetworkSpec spec) {
    Map<String, Integer> consumers = new HashMap<>();
    for (Node n : spec.nodes()) {
      for (String in : n.inputs()) {
        consumers.merge(in, 1, Integer::sum);
      }
    }
    Map<String, Node> byName = new HashMap<>();
    spec.nodes().forEach(n -> byName.put(n.name(), n));
    LinkedHashMap<String, String> pairs = new LinkedHashMap<>();
    for (Node bn : spec.nodes()) {
      if (bn.op() != Op.BATCHNORM2D) {
        continue;
      }
      Node conv = byName.get(bn.inputs().get(0));
      if (conv != null && conv.op() == Op.CONV2D && consumers.get(conv.name()) == 1
          && !conv.name().equals(spec.outputName())) {
        pairs.put(bn.name(), conv.name());
      }
    }
    return pairs;
  }

  private static NetworkSpec foldedSpec(NetworkSpec spec, Map<String, String> pairs) {
    java.util.Set<String> convs = new java.util.HashSet<>(pairs.values());
    List<Node> result = new ArrayList<>();
    for (Node n : spec.nodes()) {
      if (pairs.containsKey(n.name())) {
        continue;
      }
      Map<String, Object> attrs = n.attrs();
      if (convs.contains(n.name())) {
        LinkedHashMap<String, Object> withBias = new LinkedHashMap<>(attrs);
        withBias.put("bias", true);
        attrs = withBias;
      }
      List<String> inputs = n.inputs().stream().map(in -> pairs.getOrDefault(in, in)).toList();
      result.add(new Node(n.name(), n.op(), attrs, inputs));
    }
    String output = pairs.getOrDefault(spec.outputName(), spec.outputName());
    return new NetworkSpec(spec.inputName(), spec.inputShape(), spec.classes(), result, output);
  }

  static float[] require(Map<String, float[]> weights, String name) {
    float[] v = weights.get(name);
    if (v == null) {
      throw new UserException("the weights lack " + name);
    }
    return v;
  }
}
