package io.dlsql.executor.graph;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A node's attributes, checked and typed: one record per operator. {@link #parse} is the one
 * place attribute values are validated; {@link #outputShape} is shape inference for one node.
 * Shapes are per sample: (C, H, W) for images, (F) for feature vectors.
 */
public sealed interface LayerSpec {

  /** Per-sample output shape for these per-sample input shapes; mismatches throw {@link UserException}. */
  int[] outputShape(List<int[]> inputs, String where);

  /** Where a node is, for messages: {@code layer 3 (CONV2D)}. Positions count from 1. */
  static String where(int position, Op op) {
    return "layer " + position + " (" + op.sqlName() + ")";
  }

  /** Checks and types {@code node}'s attributes; {@code position} counts layers from 1. */
  static LayerSpec parse(Node node, int position) {
    String where = where(position, node.op());
    return switch (node.op()) {
      case CONV2D -> Conv2d.parse(new Attrs(where, node.attrs(), Conv2d.OPTIONS));
      case BATCHNORM2D -> {
        Attrs a = new Attrs(where, node.attrs(), Set.of("eps", "momentum"));
        double eps = a.number("eps", 0, 1, false, BatchNorm.DEFAULT_EPS);
        if (eps <= 0) {
          throw a.error("EPS must be positive, got " + eps);
        }
        yield new BatchNorm(eps, a.number("momentum", 0, 1, false, BatchNorm.DEFAULT_MOMENTUM));
      }
      case RELU, SIGMOID, TANH -> {
        new Attrs(where, node.attrs(), Set.of());
        yield new Activation(node.op(), 0);
      }
      case LEAKY_RELU -> {
        Attrs a = new Attrs(where, node.attrs(), Set.of("slope"));
        yield new Activation(Op.LEAKY_RELU, a.number("slope", 0, 1, false, Activation.DEFAULT_SLOPE));
      }
      case MAXPOOL2D, AVGPOOL2D -> {
        Attrs a = new Attrs(where, node.attrs(), Set.of("kernel", "stride", "padding"));
        int[] k = a.pair("kernel", 1, null);
        int[] s = a.pair("stride", 1, k);
        int[] p = a.pair("padding", 0, new int[] {0, 0});
        if (p[0] > k[0] / 2 || p[1] > k[1] / 2) {
          throw a.error("PADDING " + Attrs.describe(a.raw("padding")) + " must be at most half the kernel "
              + k[0] + "x" + k[1]);
        }
        yield new Pool(node.op() == Op.MAXPOOL2D, k[0], k[1], s[0], s[1], p[0], p[1]);
      }
      case GLOBAL_AVGPOOL -> {
        new Attrs(where, node.attrs(), Set.of());
        yield new GlobalAvgPool();
      }
      case DENSE -> {
        Attrs a = new Attrs(where, node.attrs(), Set.of("units", "bias"));
        yield new Dense(a.intAtLeast("units", 1, null), a.bool("bias", true));
      }
      case DROPOUT -> {
        Attrs a = new Attrs(where, node.attrs(), Set.of("p"));
        yield new Dropout(a.number("p", 0, 1, true, Dropout.DEFAULT_P));
      }
      case FLATTEN -> {
        new Attrs(where, node.attrs(), Set.of());
        yield new Flatten();
      }
      case ADD -> {
        new Attrs(where, node.attrs(), Set.of());
        yield new Add();
      }
      case CONCAT -> {
        new Attrs(where, node.attrs(), Set.of());
        yield new Concat();
      }
    };
  }

  private static long numel(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  private static void requireImage(int[] in, String where) {
    if (in.length != 3) {
      throw new UserException(
          where + ": needs an image input (channels, height, width), got shape " + Attrs.shape(in)
              + "; put it before FLATTEN/DENSE");
    }
  }

  /** 2-D convolution; padding is explicit (height, width), or 'same' / 'valid'. */
  record Conv2d(
      int outChannels,
      int kernelH,
      int kernelW,
      int strideH,
      int strideW,
      PaddingMode paddingMode,
      int padH,
      int padW,
      int dilationH,
      int dilationW,
      int groups,
      boolean bias)
      implements LayerSpec {
    static final Set<String> OPTIONS =
        Set.of("out_channels", "kernel", "stride", "padding", "dilation", "groups", "bias");

    /** How padding was given. */
    public enum PaddingMode {
      EXPLICIT,
      /** Output size = ceil(input / stride), extra padding at the bottom/right when uneven (as TensorFlow). */
      SAME,
      VALID
    }

    static Conv2d parse(Attrs a) {
      int out = a.intAtLeast("out_channels", 1, null);
      int[] k = a.pair("kernel", 1, null);
      int[] s = a.pair("stride", 1, new int[] {1, 1});
      int[] d = a.pair("dilation", 1, new int[] {1, 1});
      int groups = a.intAtLeast("groups", 1, 1);
      PaddingMode mode = PaddingMode.EXPLICIT;
      int[] p = {0, 0};
      Object raw = a.raw("padding");
      if (raw instanceof String str) {
        if (str.equalsIgnoreCase("same")) {
          mode = PaddingMode.SAME;
        } else if (str.equalsIgnoreCase("valid")) {
          mode = PaddingMode.VALID;
        } else {
          throw a.error("PADDING must be an integer, a pair, 'same' or 'valid', got '" + str + "'");
        }
      } else {
        p = a.pair("padding", 0, p);
      }
      if (out % groups != 0) {
        throw a.error("GROUPS " + groups + " must divide the output channels " + out);
      }
      return new Conv2d(out, k[0], k[1], s[0], s[1], mode, p[0], p[1], d[0], d[1], groups, a.bool("bias", true));
    }

    /** The full geometry for a per-sample input shape (C, H, W). */
    public ConvGeometry geometry(int[] in, String where) {
      requireImage(in, where);
      int c = in[0];
      if (c % groups != 0) {
        throw new UserException(
            where + ": GROUPS " + groups + " must divide the input channels " + c + " (input "
                + Attrs.shape(in) + ")");
      }
      int[] top = new int[2];
      int[] total = new int[2];
      int[] size = {in[1], in[2]};
      int[] kernel = {kernelH, kernelW};
      int[] stride = {strideH, strideW};
      int[] dilation = {dilationH, dilationW};
      int[] pad = {padH, padW};
      int[] outSize = new int[2];
      for (int axis = 0; axis < 2; axis++) {
        int span = dilation[axis] * (kernel[axis] - 1) + 1;
        switch (paddingMode) {
          case EXPLICIT -> {
            top[axis] = pad[axis];
            total[axis] = 2 * pad[axis];
          }
          case VALID -> {
            top[axis] = 0;
            total[axis] = 0;
          }
          case SAME -> {
            int o = (size[axis] + stride[axis] - 1) / stride[axis];
            total[axis] = Math.max(0, (o - 1) * stride[axis] + span - size[axis]);
            top[axis] = total[axis] / 2;
          }
        }
        if (size[axis] + total[axis] < span) {
          throw new UserException(
              where + ": input " + in[1] + "x" + in[2] + " (with padding " + top[0] + ", " + top[1]
                  + ") is smaller than the " + (dilationH > 1 || dilationW > 1 ? "dilated " : "")
                  + "kernel " + kernelH + "x" + kernelW);
        }
        outSize[axis] =
            ConvGeometry.outputSize(size[axis], kernel[axis], stride[axis], top[axis],
                total[axis] - top[axis], dilation[axis]);
      }
      return new ConvGeometry(
          c, in[1], in[2], outChannels, kernelH, kernelW, strideH, strideW, top[0], top[1],
          dilationH, dilationW, groups, outSize[0], outSize[1]);
    }

    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      ConvGeometry g = geometry(inputs.get(0), where);
      return new int[] {outChannels, g.outHeight(), g.outWidth()};
    }
  }

  /** Batch normalisation over the channel axis (or over features for (F) inputs). */
  record BatchNorm(double eps, double momentum) implements LayerSpec {
    public static final double DEFAULT_EPS = 1e-5;
    public static final double DEFAULT_MOMENTUM = 0.1;

    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      int[] in = inputs.get(0);
      if (in.length != 3 && in.length != 1) {
        throw new UserException(where + ": needs (C, H, W) or (F) input, got " + Attrs.shape(in));
      }
      return in.clone();
    }
  }

  /** Elementwise activation: RELU, LEAKY_RELU (with slope), SIGMOID or TANH. */
  record Activation(Op kind, double slope) implements LayerSpec {
    public static final double DEFAULT_SLOPE = 0.01;

    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      return inputs.get(0).clone();
    }
  }

  /** Max or average pooling (average counts padding as zeros, as PyTorch's default). */
  record Pool(boolean max, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW)
      implements LayerSpec {
    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      int[] in = inputs.get(0);
      requireImage(in, where);
      if (in[1] + 2 * padH < kernelH || in[2] + 2 * padW < kernelW) {
        throw new UserException(
            where + ": input " + in[1] + "x" + in[2] + " is smaller than the kernel " + kernelH + "x"
                + kernelW);
      }
      return new int[] {
        in[0],
        ConvGeometry.outputSize(in[1], kernelH, strideH, padH, padH, 1),
        ConvGeometry.outputSize(in[2], kernelW, strideW, padW, padW, 1)
      };
    }
  }

  /** Mean over H and W: (C, H, W) to (C). */
  record GlobalAvgPool() implements LayerSpec {
    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      requireImage(inputs.get(0), where);
      return new int[] {inputs.get(0)[0]};
    }
  }

  /** Fully connected layer; an input that is not flat is flattened first. */
  record Dense(int units, boolean bias) implements LayerSpec {
    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      long features = numel(inputs.get(0));
      if (features > Integer.MAX_VALUE) {
        throw new UserException(where + ": input " + Attrs.shape(inputs.get(0)) + " is too large");
      }
      return new int[] {units};
    }
  }

  /** Inverted dropout with drop probability {@code p}. */
  record Dropout(double p) implements LayerSpec {
    public static final double DEFAULT_P = 0.5;

    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      return inputs.get(0).clone();
    }
  }

  /** (C, H, W) to (C * H * W). */
  record Flatten() implements LayerSpec {
    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      return new int[] {(int) numel(inputs.get(0))};
    }
  }

  /** Elementwise sum of two or more inputs of the same shape. */
  record Add() implements LayerSpec {
    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      int[] first = inputs.get(0);
      for (int[] other : inputs.subList(1, inputs.size())) {
        if (!Arrays.equals(first, other)) {
          throw new UserException(
              where + ": shapes " + Attrs.shape(first) + " and " + Attrs.shape(other) + " differ");
        }
      }
      return first.clone();
    }
  }

  /** Concatenation along the channel axis (feature axis for flat inputs). */
  record Concat() implements LayerSpec {
    @Override
    public int[] outputShape(List<int[]> inputs, String where) {
      int[] first = inputs.get(0);
      int[] out = first.clone();
      for (int[] other : inputs.subList(1, inputs.size())) {
        boolean ok = other.length == first.length && (first.length == 1 || first.length == 3);
        if (ok && first.length == 3) {
          ok = other[1] == first[1] && other[2] == first[2];
        }
        if (!ok) {
          throw new UserException(
              where + ": cannot concatenate " + Attrs.shape(first) + " and " + Attrs.shape(other)
                  + " along channels (height and width must match)");
        }
        out[0] += other[0];
      }
      return out;
    }
  }
}
