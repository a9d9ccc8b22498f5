package io.dlsql.executor.kernel.conv;

/**
 * Everything about one 2-D convolution that does not depend on the batch size: input and output
 * channels and sizes, kernel, stride, padding (top and left; bottom and right padding show only in
 * the output size), dilation and groups. Weights are (outChannels, inChannels / groups, kernelH,
 * kernelW), as in PyTorch.
 */
public record ConvGeometry(
    int inChannels,
    int inHeight,
    int inWidth,
    int outChannels,
    int kernelH,
    int kernelW,
    int strideH,
    int strideW,
    int padTop,
    int padLeft,
    int dilationH,
    int dilationW,
    int groups,
    int outHeight,
    int outWidth) {

  public ConvGeometry {
    if (inChannels % groups != 0 || outChannels % groups != 0) {
      throw new IllegalArgumentException(
          "groups " + groups + " must divide channels " + inChannels + " -> " + outChannels);
    }
    if (outHeight <= 0 || outWidth <= 0) {
      throw new IllegalArgumentException("empty convolution output " + outHeight + "x" + outWidth);
    }
  }

  /** Geometry with symmetric padding, output size computed as PyTorch does. */
  public static ConvGeometry of(
      int inChannels, int inHeight, int inWidth, int outChannels, int kernel, int stride, int pad,
      int dilation, int groups) {
    int oh = outputSize(inHeight, kernel, stride, pad, pad, dilation);
    int ow = outputSize(inWidth, kernel, stride, pad, pad, dilation);
    return new ConvGeometry(
        inChannels, inHeight, inWidth, outChannels, kernel, kernel, stride, stride, pad, pad,
        dilation, dilation, groups, oh, ow);
  }

  /** {@code floor((in + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1}. */
  public static int outputSize(int in, int kernel, int stride, int padBefore, int padAfter, int dilation) {
    int span = dilation * (kernel - 1) + 1;
    int padded = in + padBefore + padAfter;
    return padded < span ? 0 : (padded - span) / stride + 1;
  }

  public int inChannelsPerGroup() {
    return inChannels / groups;
  }

  public int outChannelsPerGroup() {
    return outChannels / groups;
  }

  /** Rows of one group's im2col matrix: {@code inChannelsPerGroup * kernelH * kernelW}. */
  public int colRows() {
    return inChannelsPerGroup() * kernelH * kernelW;
  }

  /** Columns of the im2col matrix: one per output pixel. */
  public int outPixels() {
    return outHeight * outWidth;
  }

  public int inPixels() {
    return inHeight * inWidth;
  }

  public long inputSize() {
    return (long) inChannels * inPixels();
  }

  public long outputSize() {
    return (long) outChannels * outPixels();
  }

  public long weightCount() {
    return (long) outChannels * colRows();
  }

  /** Whether the im2col matrix of an image is the image itself (1x1, stride 1, no padding). */
  public boolean isPointwise() {
    return kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0
        && padLeft == 0 && outHeight == inHeight && outWidth == inWidth;
  }

  /** Multiply-adds of the forward pass for one image. */
  public long macsPerImage() {
    return outputSize() * colRows();
  }
}
