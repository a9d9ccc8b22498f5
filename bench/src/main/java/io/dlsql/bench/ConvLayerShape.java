package io.dlsql.bench;

import io.dlsql.executor.kernel.conv.ConvGeometry;
import java.util.List;

/**
 * One convolution layer as the layout benchmark names it: {@code "r20.l2.conv1:16x28x28-32k3s2p1"}
 * is the layer {@code r20.l2.conv1} reading 16 channels of 28x28 and writing 32 channels with a
 * 3x3 kernel, stride 2, padding 1; a trailing {@code gN} gives N groups. The names say which
 * network the shape comes from (cn: the anchor convnet, r20: ResNet-20, mb: the MobileNet-style
 * net at width 100), all on 28x28 inputs.
 */
public record ConvLayerShape(String name, ConvGeometry geometry) {
  /** Every distinct convolution shape of the three networks. */
  public static final List<String> LAYERS = List.of(
      "cn.conv1:1x28x28-32k5s1p2",
      "cn.conv2:32x14x14-64k5s1p2",
      "r20.conv1:1x28x28-16k3s1p1",
      "r20.l1.conv:16x28x28-16k3s1p1",
      "r20.l2.conv1:16x28x28-32k3s2p1",
      "r20.l2.short:16x28x28-32k1s2p0",
      "r20.l2.conv:32x14x14-32k3s1p1",
      "r20.l3.conv1:32x14x14-64k3s2p1",
      "r20.l3.short:32x14x14-64k1s2p0",
      "r20.l3.conv:64x7x7-64k3s1p1",
      "mb.conv1:1x28x28-32k3s1p1",
      "mb.b1.dw:32x28x28-32k3s1p1g32",
      "mb.b1.pw:32x28x28-64k1s1p0",
      "mb.b2.dw:64x28x28-64k3s2p1g64",
      "mb.b2.pw:64x14x14-128k1s1p0",
      "mb.b3.dw:128x14x14-128k3s1p1g128",
      "mb.b3.pw:128x14x14-128k1s1p0",
      "mb.b4.dw:128x14x14-128k3s2p1g128",
      "mb.b4.pw:128x7x7-256k1s1p0",
      "mb.b5.dw:256x7x7-256k3s1p1g256",
      "mb.b5.pw:256x7x7-256k1s1p0");

  /** Parses {@code name:CxHxW-OCkKsSpP[gG]}. */
  public static ConvLayerShape parse(String text) {
    int colon = text.indexOf(':');
    String name = text.substring(0, colon);
    String[] io = text.substring(colon + 1).split("-");
    String[] in = io[0].split("x");
    String spec = io[1];
    int k = spec.indexOf('k');
    int s = spec.indexOf('s');
    int p = spec.indexOf('p');
    int g = spec.indexOf('g');
    int oc = Integer.parseInt(spec.substring(0, k));
    int kernel = Integer.parseInt(spec.substring(k + 1, s));
    int stride = Integer.parseInt(spec.substring(s + 1, p));
    int pad = Integer.parseInt(spec.substring(p + 1, g < 0 ? spec.length() : g));
    int groups = g < 0 ? 1 : Integer.parseInt(spec.substring(g + 1));
    return new ConvLayerShape(name, ConvGeometry.of(Integer.parseInt(in[0]), Integer.parseInt(in[1]),
        Integer.parseInt(in[2]), oc, kernel, stride, pad, 1, groups));
  }

  /** Floating-point operations of one pass (forward, or either gradient) over {@code batch} images. */
  public double flops(int batch) {
    return 2.0 * geometry.macsPerImage() * batch;
  }
}
