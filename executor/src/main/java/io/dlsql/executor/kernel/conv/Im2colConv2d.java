package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import java.lang.foreign.MemorySegment;

/**
 * Convolution as im2col + GEMM over several images at once: the im2col matrices of up to {@link
 * #imagesPerGemm} images sit side by side, so one GEMM per group has {@code images * OH*OW}
 * columns (small feature maps would otherwise make thin GEMMs), and the weight gradient is one
 * GEMM over all of them with a long k instead of one small GEMM per image. Bias and a fused
 * activation are applied while the GEMM result is scattered back to (N, OC, OH, OW). The caller
 * splits the batch across threads and gives each thread its own workspace of {@link
 * #workspaceSize} floats. Offsets are in floats; w is (OC, C/groups, KH, KW).
 */
public final class Im2colConv2d {
  private Im2colConv2d() {}

  /**
   * GEMM columns per call at most (unless one image has more): enough that the micro-kernel's
   * column panels amortise the packing of the weights, few enough that the im2col block stays
   * within a few MB, and short enough as the weight gradient's k that its float sums stay as
   * accurate as per-image sums (the PyTorch fixtures check gradients to 1e-4).
   */
  static final int TARGET_COLUMNS = 1024;
  /** Upper bound on images per GEMM, so tiny feature maps do not make huge workspaces. */
  static final int MAX_IMAGES_PER_GEMM = 32;

  /** How many images share one GEMM for geometry {@code g}. */
  public static int imagesPerGemm(ConvGeometry g) {
    return Math.clamp(TARGET_COLUMNS / g.outPixels(), 1, MAX_IMAGES_PER_GEMM);
  }

  /** Rows of the whole im2col matrix (all groups): {@code C * KH * KW}. */
  static long allColRows(ConvGeometry g) {
    return (long) g.inChannels() * g.kernelH() * g.kernelW();
  }

  /** Floats of workspace one thread needs: the im2col block and the GEMM result block. */
  public static long workspaceSize(ConvGeometry g) {
    long columns = (long) imagesPerGemm(g) * g.outPixels();
    return (allColRows(g) + g.outChannels()) * columns;
  }

  /** Extra floats moved per image beyond input, output and weights: the im2col matrix written and read. */
  public static long extraTrafficPerImage(ConvGeometry g) {
    return 2 * allColRows(g) * g.outPixels();
  }

  /**
   * y (count, OC, OH, OW) = act(conv(x (count, C, H, W), w) + b), b may be null. Images are
   * taken {@link #imagesPerGemm} at a time.
   */
  public static void forward(
      ConvGeometry g, int count, MemorySegment x, long xOff, MemorySegment w, MemorySegment b,
      FusedActivation act, MemorySegment ws, MemorySegment y, long yOff) {
    int step = imagesPerGemm(g);
    for (int first = 0; first < count; first += step) {
      int images = Math.min(step, count - first);
      forwardBlock(g, images, x, xOff + first * g.inputSize(), w, b, act, ws,
          y, yOff + first * g.outputSize());
    }
  }

  private static void forwardBlock(
      ConvGeometry g, int images, MemorySegment x, long xOff, MemorySegment w, MemorySegment b,
      FusedActivation act, MemorySegment ws, MemorySegment y, long yOff) {
    int p = g.outPixels();
    int columns = images * p;
    int r = g.colRows();
    int ocg = g.outChannelsPerGroup();
    MemorySegment cols = ws;
    long colOff = 0;
    if (images == 1 && g.isPointwise()) {
      cols = x;
      colOff = xOff;
    } else {
      for (int i = 0; i < images; i++) {
        Im2col.im2col(g, x, xOff + i * g.inputSize(), ws, (long) i * p, columns);
      }
    }
    // One image: the GEMM writes y directly and the epilogue runs in place.
    MemorySegment out = images == 1 ? y : ws;
    long outOff = images == 1 ? yOff : allColRows(g) * columns;
    for (int gi = 0; gi < g.groups(); gi++) {
      Gemm.sgemm(false, false, ocg, columns, r, 1f, w, (long) gi * ocg * r, r,
          cols, colOff + (long) gi * r * columns, columns, 0f, out, outOff + (long) gi * ocg * columns, columns);
    }
    if (images == 1 && b == null && act == FusedActivation.IDENTITY) {
      return;
    }
    for (int i = 0; i < images; i++) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        float bias = b == null ? 0f : b.getAtIndex(F32, oc);
        ElementwiseKernels.scaleShift(out, outOff + (long) oc * columns + (long) i * p,
            y, yOff + i * g.outputSize() + (long) oc * p, p, 1f, bias, act);
      }
    }
  }

  /**
   * Backward of {@link #forward} for {@code count} images. {@code y} is the forward's output
   * (read only when {@code act} is not the identity, to mask dy). Weight gradient dW_g (OCg, R)
   * = dy_g * col_g^T and bias gradient db = row sums of dy, written when {@code accumulate} is
   * false and added otherwise; db may be null. Input gradient when {@code dx} is not null: dcol_g
   * = W_g^T * dy_g, then col2im into dx (overwritten).
   */
  public static void backward(
      ConvGeometry g, int count, MemorySegment x, long xOff, MemorySegment w, FusedActivation act,
      MemorySegment y, long yOff, MemorySegment dy, long dyOff, MemorySegment ws,
      MemorySegment dw, MemorySegment db, boolean accumulate, MemorySegment dx, long dxOff) {
    int step = imagesPerGemm(g);
    for (int first = 0; first < count; first += step) {
      int images = Math.min(step, count - first);
      backwardBlock(g, images, x, xOff + first * g.inputSize(), w, act, y, yOff + first * g.outputSize(),
          dy, dyOff + first * g.outputSize(), ws, dw, db, accumulate || first > 0,
          dx, dxOff + first * g.inputSize());
    }
  }

  private static void backwardBlock(
      ConvGeometry g, int images, MemorySegment x, long xOff, MemorySegment w, FusedActivation act,
      MemorySegment y, long yOff, MemorySegment dy, long dyOff, MemorySegment ws,
      MemorySegment dw, MemorySegment db, boolean accumulate, MemorySegment dx, long dxOff) {
    int p = g.outPixels();
    int columns = images * p;
    int r = g.colRows();
    int ocg = g.outChannelsPerGroup();
    // dy of the block as one (OC, images * P) matrix, masked by the fused activation.
    MemorySegment grad = dy;
    long gradOff = dyOff;
    if (images > 1 || act != FusedActivation.IDENTITY) {
      grad = ws;
      gradOff = allColRows(g) * columns;
      for (int i = 0; i < images; i++) {
        for (int oc = 0; oc < g.outChannels(); oc++) {
          long at = i * g.outputSize() + (long) oc * p;
          ElementwiseKernels.activationBackward(act, y, yOff + at, dy, dyOff + at,
              grad, gradOff + (long) oc * columns + (long) i * p, p);
        }
      }
    }
    boolean direct = images == 1 && g.isPointwise();
    MemorySegment cols = direct ? x : ws;
    long colOff = direct ? xOff : 0;
    if (!direct) {
      for (int i = 0; i < images; i++) {
        Im2col.im2col(g, x, xOff + i * g.inputSize(), ws, (long) i * p, columns);
      }
    }
    float beta = accumulate ? 1f : 0f;
    for (int gi = 0; gi < g.groups(); gi++) {
      Gemm.sgemm(false, true, ocg, r, columns, 1f, grad, gradOff + (long) gi * ocg * columns, columns,
          cols, colOff + (long) gi * r * columns, columns, beta, dw, (long) gi * ocg * r, r);
    }
    if (db != null) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        float sum = (float) ElementwiseKernels.sum(grad, gradOff + (long) oc * columns, columns);
        float before = accumulate ? db.getAtIndex(F32, oc) : 0f;
        db.setAtIndex(F32, oc, before + sum);
      }
    }
    if (dx == null) {
      return;
    }
    // The im2col block is no longer needed, so it takes dcol; a single pointwise image's dcol is dx.
    MemorySegment dcol = direct ? dx : ws;
    long dcolOff = direct ? dxOff : 0;
    for (int gi = 0; gi < g.groups(); gi++) {
      Gemm.sgemm(true, false, r, columns, ocg, 1f, w, (long) gi * ocg * r, r,
          grad, gradOff + (long) gi * ocg * columns, columns, 0f, dcol, dcolOff + (long) gi * r * columns, columns);
    }
    if (!direct) {
      for (int i = 0; i < images; i++) {
        Im2col.col2im(g, ws, (long) i * p, columns, dx, dxOff + i * g.inputSize());
      }
    }
  }
}
