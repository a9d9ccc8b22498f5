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
    List<Node> nodes = spec.nodes();
    Map<String, Integer> consumers = new HashMap<>();
    for (Node n : nodes) {
      for (String in : n.inputs()) {
        consumers.merge(in, 1, Integer::sum);
      }
    }
    Map<String, Node> byName = new HashMap<>();
    nodes.forEach(n -> byName.put(n.name(), n));
    List<LayerSpec> layers = spec.layerSpecs();
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    weights.forEach((k, v) -> out.put(k, v.clone()));
    Map<String, String> renamed = new HashMap<>();
    Map<String, Node> foldedConvs = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      Node bn = nodes.get(i);
      if (bn.op() != Op.BATCHNORM2D) {
        continue;
      }
      Node conv = byName.get(bn.inputs().get(0));
      if (conv == null || conv.op() != Op.CONV2D || consumers.get(conv.name()) != 1
          || conv.name().equals(spec.outputName())) {
        continue;
      }
      LayerSpec.BatchNorm b = (LayerSpec.BatchNorm) layers.get(i);
      int channels = spec.shapes().get(conv.name())[0];
      float[] w = require(out, conv.name() + ".weight");
      float[] bias = out.get(conv.name() + ".bias");
      float[] gamma = require(out, bn.name() + ".weight");
      float[] beta = require(out, bn.name() + ".bias");
      float[] mean = require(out, bn.name() + ".running_mean");
      float[] var = require(out, bn.name() + ".running_var");
      int per = w.length / channels;
      float[] newBias = new float[channels];
      for (int o = 0; o < channels; o++) {
        double s = gamma[o] / Math.sqrt(var[o] + b.eps());
        for (int j = 0; j < per; j++) {
          w[o * per + j] = (float) (w[o * per + j] * s);
        }
        newBias[o] = (float) ((bias == null ? 0 : bias[o]) * s + beta[o] - mean[o] * s);
      }
      out.put(conv.name() + ".bias", newBias);
      for (String suffix : List.of(".weight", ".bias", ".running_mean", ".running_var")) {
        out.remove(bn.name() + suffix);
      }
      renamed.put(bn.name(), conv.name());
      LinkedHashMap<String, Object> attrs = new LinkedHashMap<>(conv.attrs());
      attrs.put("bias", true);
      foldedConvs.put(conv.name(), new Node(conv.name(), conv.op(), attrs, conv.inputs()));
    }
    List<Node> result = new ArrayList<>();
    for (Node n : nodes) {
      if (renamed.containsKey(n.name())) {
        continue;
      }
      Node base = foldedConvs.getOrDefault(n.name(), n);
      List<String> inputs = base.inputs().stream().map(in -> renamed.getOrDefault(in, in)).toList();
      result.add(new Node(base.name(), base.op(), base.attrs(), inputs));
    }
    String output = renamed.getOrDefault(spec.outputName(), spec.outputName());
    NetworkSpec folded = new NetworkSpec(spec.inputName(), spec.inputShape(), spec.classes(), result, output);
    // Keep the state dict in the folded spec's node order, as a network built from it would list it.
    LinkedHashMap<String, float[]> ordered = new LinkedHashMap<>();
    for (Node n : result) {
      for (String suffix : List.of(".weight", ".bias", ".running_mean", ".running_var")) {
        float[] v = out.get(n.name() + suffix);
        if (v != null) {
          ordered.put(n.name() + suffix, v);
        }
      }
    }
    return new Folded(folded, ordered);
  }

  static float[] require(Map<String, float[]> weights, String name) {
    float[] v = weights.get(name);
    if (v == null) {
      throw new UserException("the weights lack " + name);
    }
    return v;
  }
}
