package io.dlsql.executor.arch;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Built-in architectures as {@link NetworkSpec}s for any input shape and class count: {@code
 * convnet} (the anchor), {@code lenet5}, {@code vgg}, {@code resnet} (CIFAR-style, depth 6n+2),
 * {@code mobilenet} (depthwise separable) and {@code wrn} (Wide ResNet). Parameters are checked;
 * unknown names or parameters are {@link UserException}s listing what exists.
 */
public final class Architectures {
  /** Names of the built-in architectures. */
  public static final List<String> NAMES = List.of("convnet", "lenet5", "vgg", "resnet", "mobilenet", "wrn");

  private static final Map<String, Set<String>> PARAMS = Map.of(
      "convnet", Set.of("hidden", "dropout"),
      "lenet5", Set.of(),
      "vgg", Set.of("width", "stages", "convs_per_stage", "hidden", "dropout"),
      "resnet", Set.of("depth", "width"),
      "mobilenet", Set.of("width"),
      "wrn", Set.of("depth", "width", "dropout"));

  private Architectures() {}

  /** The spec of architecture {@code name} with {@code params} for inputs (C, H, W) and {@code classes} classes. */
  public static NetworkSpec build(String name, Map<String, Object> params, int[] inputShape, int classes) {
    String arch = name.toLowerCase(Locale.ROOT);
    Set<String> known = PARAMS.get(arch);
    if (known == null) {
      throw new UserException("unknown architecture " + name + "; known: " + String.join(", ", NAMES));
    }
    Params p = new Params(arch, params == null ? Map.of() : params, known);
    if (inputShape == null || inputShape.length != 3) {
      throw new UserException(arch + " needs image inputs (channels, height, width)");
    }
    Graph g = new Graph(inputShape);
    String out = switch (arch) {
      case "convnet" -> convnet(g, p, classes);
      case "lenet5" -> lenet5(g, classes);
      case "vgg" -> vgg(g, p, classes);
      case "resnet" -> resnet(g, p, classes);
      case "mobilenet" -> mobilenet(g, p, classes);
      case "wrn" -> wideResnet(g, p, classes);
      default -> throw new IllegalStateException(arch);
    };
    return new NetworkSpec("image", inputShape, classes, g.nodes, out);
  }

  /** conv 32 5x5 pad 2, ReLU, maxpool 2; conv 64 5x5 pad 2, ReLU, maxpool 2; dense 1024, ReLU, dropout 0.4; dense. */
  private static String convnet(Graph g, Params p, int classes) {
    int hidden = p.integer("hidden", 1024, 1);
    double dropout = p.fraction("dropout", 0.4);
    String x = g.conv("conv1", "image", 32, 5, 1, 2, true);
    x = g.unary("relu1", Op.RELU, x);
    x = g.poolIfFits("pool1", x, 2);
    x = g.conv("conv2", x, 64, 5, 1, 2, true);
    x = g.unary("relu2", Op.RELU, x);
    x = g.poolIfFits("pool2", x, 2);
    x = g.unary("flatten", Op.FLATTEN, x);
    x = g.dense("fc1", x, hidden);
    x = g.unary("relu3", Op.RELU, x);
    x = g.dropout("dropout", x, dropout);
    return g.dense("fc2", x, classes);
  }

  /** LeNet-5 with ReLU and max pooling; the first convolution pads by 2 so 28x28 inputs work as 32x32 did. */
  private static String lenet5(Graph g, int classes) {
    String x = g.conv("conv1", "image", 6, 5, 1, 2, true);
    x = g.unary("relu1", Op.RELU, x);
    x = g.poolIfFits("pool1", x, 2);
    x = g.conv("conv2", x, 16, 5, 1, 0, true);
    x = g.unary("relu2", Op.RELU, x);
    x = g.poolIfFits("pool2", x, 2);
    x = g.unary("flatten", Op.FLATTEN, x);
    x = g.dense("fc1", x, 120);
    x = g.unary("relu3", Op.RELU, x);
    x = g.dense("fc2", x, 84);
    x = g.unary("relu4", Op.RELU, x);
    return g.dense("fc3", x, classes);
  }

  /** Stages of (3x3 conv, batchnorm, ReLU) x k then a 2x2 max pool (skipped once the image is 1 pixel), then a small classifier. */
  private static String vgg(Graph g, Params p, int classes) {
    int width = p.integer("width", 32, 1);
    int stages = p.integer("stages", 3, 1);
    int convs = p.integer("convs_per_stage", 2, 1);
    int hidden = p.integer("hidden", 256, 1);
    double dropout = p.fraction("dropout", 0.5);
    String x = "image";
    for (int s = 1; s <= stages; s++) {
      int channels = width << (s - 1);
      for (int c = 1; c <= convs; c++) {
        String prefix = "stage" + s + "." + c;
        x = g.conv(prefix + ".conv", x, channels, 3, 1, 1, false);
        x = g.batchNorm(prefix + ".bn", x);
        x = g.unary(prefix + ".relu", Op.RELU, x);
      }
      x = g.poolIfFits("stage" + s + ".pool", x, 2);
    }
    x = g.unary("flatten", Op.FLATTEN, x);
    x = g.dense("fc1", x, hidden);
    x = g.unary("fc1.relu", Op.RELU, x);
    x = g.dropout("fc1.dropout", x, dropout);
    return g.dense("fc2", x, classes);
  }

  /**
   * CIFAR ResNet (He et al. 2016, section 4.2): a 3x3 stem, three stages of n = (depth - 2) / 6
   * basic blocks at widths w, 2w, 4w (w = 16), the first block of stages 2 and 3 with stride 2
   * and a 1x1 convolution + batchnorm shortcut, then global average pooling and a dense layer.
   * Same structure and order as /work/shared/anchors/torch_fashion.py's ResNet20.
   */
  private static String resnet(Graph g, Params p, int classes) {
    int depth = p.integer("depth", 20, 8);
    if ((depth - 2) % 6 != 0) {
      throw new UserException("resnet depth must be 6n+2 (20, 32, 44, 56, 110...), got " + depth);
    }
    int blocks = (depth - 2) / 6;
    int width = p.integer("width", 16, 1);
    String x = g.conv("conv1", "image", width, 3, 1, 1, false);
    x = g.batchNorm("bn1", x);
    x = g.unary("relu1", Op.RELU, x);
    int in = width;
    for (int stage = 1; stage <= 3; stage++) {
      int out = width << (stage - 1);
      for (int b = 0; b < blocks; b++) {
        int stride = stage > 1 && b == 0 ? 2 : 1;
        x = basicBlock(g, "layer" + stage + "." + b, x, in, out, stride);
        in = out;
      }
    }
    x = g.unary("avgpool", Op.GLOBAL_AVGPOOL, x);
    return g.dense("fc", x, classes);
  }

  private static String basicBlock(Graph g, String name, String x, int in, int out, int stride) {
    String y = g.conv(name + ".conv1", x, out, 3, stride, 1, false);
    y = g.batchNorm(name + ".bn1", y);
    y = g.unary(name + ".relu1", Op.RELU, y);
    y = g.conv(name + ".conv2", y, out, 3, 1, 1, false);
    y = g.batchNorm(name + ".bn2", y);
    String shortcut = x;
    if (stride != 1 || in != out) {
      shortcut = g.conv(name + ".shortcut.0", x, out, 1, stride, 0, false);
      shortcut = g.batchNorm(name + ".shortcut.1", shortcut);
    }
    String sum = g.add(name + ".add", y, shortcut);
    return g.unary(name + ".relu2", Op.RELU, sum);
  }

  /**
   * MobileNet v1 shape for small images: a 3x3 stem of 32 channels, then depthwise separable
   * blocks (3x3 depthwise conv, batchnorm, ReLU, 1x1 conv, batchnorm, ReLU) widening 64, 128
   * (stride 2), 128, 256 (stride 2), 256, scaled by {@code width} (a multiplier in percent).
   */
  private static String mobilenet(Graph g, Params p, int classes) {
    int percent = p.integer("width", 100, 1);
    int[][] blocks = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}};
    int stem = scale(32, percent);
    String x = g.conv("conv1", "image", stem, 3, 1, 1, false);
    x = g.batchNorm("bn1", x);
    x = g.unary("relu1", Op.RELU, x);
    int in = stem;
    for (int i = 0; i < blocks.length; i++) {
      int out = scale(blocks[i][0], percent);
      String name = "block" + (i + 1);
      x = g.depthwise(name + ".dw", x, in, 3, blocks[i][1], 1);
      x = g.batchNorm(name + ".dw_bn", x);
      x = g.unary(name + ".dw_relu", Op.RELU, x);
      x = g.conv(name + ".pw", x, out, 1, 1, 0, false);
      x = g.batchNorm(name + ".pw_bn", x);
      x = g.unary(name + ".pw_relu", Op.RELU, x);
      in = out;
    }
    x = g.unary("avgpool", Op.GLOBAL_AVGPOOL, x);
    return g.dense("fc", x, classes);
  }

  private static int scale(int channels, int percent) {
    return Math.max(1, channels * percent / 100);
  }

  /**
   * Wide ResNet WRN-depth-width (Zagoruyko and Komodakis 2016): a 3x3 stem of 16 channels, three
   * stages of (depth - 4) / 6 pre-activation blocks (batchnorm, ReLU, 3x3 conv, [dropout], batchnorm,
   * ReLU, 3x3 conv) at 16k, 32k, 64k channels (k = width), 1x1 shortcuts where the shape changes,
   * then batchnorm, ReLU, global average pooling and a dense layer.
   */
  private static String wideResnet(Graph g, Params p, int classes) {
    int depth = p.integer("depth", 16, 10);
    if ((depth - 4) % 6 != 0) {
      throw new UserException("wrn depth must be 6n+4 (10, 16, 22, 28, 40...), got " + depth);
    }
    int blocks = (depth - 4) / 6;
    int k = p.integer("width", 4, 1);
    double dropout = p.fraction("dropout", 0);
    String x = g.conv("conv1", "image", 16, 3, 1, 1, false);
    int in = 16;
    for (int stage = 1; stage <= 3; stage++) {
      int out = (16 << (stage - 1)) * k;
      for (int b = 0; b < blocks; b++) {
        int stride = stage > 1 && b == 0 ? 2 : 1;
        String name = "layer" + stage + "." + b;
        String pre = g.batchNorm(name + ".bn1", x);
        pre = g.unary(name + ".relu1", Op.RELU, pre);
        String y = g.conv(name + ".conv1", pre, out, 3, stride, 1, false);
        y = g.batchNorm(name + ".bn2", y);
        y = g.unary(name + ".relu2", Op.RELU, y);
        if (dropout > 0) {
          y = g.dropout(name + ".dropout", y, dropout);
        }
        y = g.conv(name + ".conv2", y, out, 3, 1, 1, false);
        String shortcut = in == out && stride == 1 ? x : g.conv(name + ".shortcut", pre, out, 1, stride, 0, false);
        x = g.add(name + ".add", y, shortcut);
        in = out;
      }
    }
    x = g.batchNorm("bn", x);
    x = g.unary("relu", Op.RELU, x);
    x = g.unary("avgpool", Op.GLOBAL_AVGPOOL, x);
    return g.dense("fc", x, classes);
  }

  /** Appends nodes and tracks per-node shapes, so pooling can be skipped when the image is too small. */
  private static final class Graph {
    final List<Node> nodes = new ArrayList<>();
    final Map<String, int[]> shapes = new HashMap<>();

    Graph(int[] input) {
      shapes.put("image", input.clone());
    }

    String conv(String name, String in, int out, int k, int stride, int pad, boolean bias) {
      return node(name, Op.CONV2D, in, Map.of("out_channels", out, "kernel", k, "stride", stride, "padding", pad, "bias", bias));
    }

    String depthwise(String name, String in, int channels, int k, int stride, int pad) {
      return node(name, Op.CONV2D, in, Map.of("out_channels", channels, "kernel", k, "stride", stride,
          "padding", pad, "groups", channels, "bias", false));
    }

    String batchNorm(String name, String in) {
      return node(name, Op.BATCHNORM2D, in, Map.of());
    }

    String unary(String name, Op op, String in) {
      return node(name, op, in, Map.of());
    }

    /** A k x k max pool, left out when the image is already smaller than the kernel. */
    String poolIfFits(String name, String in, int k) {
      int[] s = shapes.get(in);
      return s[1] >= k && s[2] >= k ? node(name, Op.MAXPOOL2D, in, Map.of("kernel", k)) : in;
    }

    String dense(String name, String in, int units) {
      return node(name, Op.DENSE, in, Map.of("units", units));
    }

    String dropout(String name, String in, double p) {
      return node(name, Op.DROPOUT, in, Map.of("p", p));
    }

    String add(String name, String a, String b) {
      return nodeOf(new Node(name, Op.ADD, Map.of(), List.of(a, b)));
    }

    private String node(String name, Op op, String in, Map<String, Object> attrs) {
      return nodeOf(new Node(name, op, new LinkedHashMap<>(attrs), List.of(in)));
    }

    private String nodeOf(Node node) {
      nodes.add(node);
      // Per-node shape inference as the graph grows (the full spec is checked at the end), so a
      // too-small input is reported at the layer that cannot take it.
      int position = nodes.size();
      List<int[]> in = node.inputs().stream().map(shapes::get).toList();
      shapes.put(node.name(), LayerSpec.parse(node, position).outputShape(in, LayerSpec.where(position, node.op())));
      return node.name();
    }
  }

  /** Architecture parameters: names case-insensitive, values checked. */
  private static final class Params {
    private final String arch;
    private final Map<String, Object> values = new HashMap<>();

    Params(String arch, Map<String, Object> raw, Set<String> known) {
      this.arch = arch;
      for (Map.Entry<String, Object> e : raw.entrySet()) {
        String key = e.getKey().toLowerCase(Locale.ROOT);
        if (!known.contains(key)) {
          throw new UserException(
              "unknown parameter " + e.getKey() + " for " + arch + "; known: "
                  + (known.isEmpty() ? "none" : String.join(", ", new TreeSet<>(known))));
        }
        values.put(key, e.getValue());
      }
    }

    int integer(String key, int dflt, int min) {
      Object v = values.get(key);
      if (v == null) {
        return dflt;
      }
      long l;
      if (v instanceof Integer || v instanceof Long || v instanceof Short) {
        l = ((Number) v).longValue();
      } else if (v instanceof BigDecimal d && d.stripTrailingZeros().scale() <= 0) {
        l = d.longValue();
      } else if (v instanceof Double d && d == Math.rint(d)) {
        l = d.longValue();
      } else {
        throw new UserException(arch + " parameter " + key + " must be an integer, got " + v);
      }
      if (l < min || l > Integer.MAX_VALUE) {
        throw new UserException(arch + " parameter " + key + " must be at least " + min + ", got " + l);
      }
      return (int) l;
    }

    double fraction(String key, double dflt) {
      Object v = values.get(key);
      if (v == null) {
        return dflt;
      }
      if (!(v instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() < 1)) {
        throw new UserException(arch + " parameter " + key + " must be a number in [0, 1), got " + v);
      }
      return n.doubleValue();
    }
  }
}
