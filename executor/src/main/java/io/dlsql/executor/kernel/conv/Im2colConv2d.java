package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Gemm;
import java.lang.foreign.MemorySegment;

/**
 * Convolution of one image as im2col + GEMM per group (variant 1). The caller runs images in
 * parallel and gives each thread its own {@code col} workspace of {@code C*KH*KW * OH*OW} floats;
 * for pointwise convolutions (1x1, stride 1, no padding) the image is its own im2col matrix and
 * the workspace is not touched. Offsets are in floats; w is (OC, C/groups, KH, KW).
 */
public final class Im2colConv2d {
  private Im2colConv2d() {}

  /** Floats of workspace one thread needs. */
  public static long workspaceSize(ConvGeometry g) {
    return g.isPointwise() ? 0 : (long) g.inChannels() * g.kernelH() * g.kernelW() * g.outPixels();
  }

  /** y_img (OC, OH*OW) = W_g (OCg, R) * col_g (R, OH*OW) per group, plus bias; R = C/groups*KH*KW. */
  public static void forwardImage(
      ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, MemorySegment b,
      MemorySegment col, MemorySegment y, long yOff) {
    MemorySegment cols = col;
    long colOff = 0;
    if (g.isPointwise()) {
      cols = x;
      colOff = xOff;
    } else {
      Im2col.im2col(g, x, xOff, col, 0);
    }
    int r = g.colRows();
    int p = g.outPixels();
    int ocg = g.outChannelsPerGroup();
    for (int gi = 0; gi < g.groups(); gi++) {
      Gemm.sgemm(false, false, ocg, p, r, 1f, w, (long) gi * ocg * r, r,
          cols, colOff + (long) gi * r * p, p, 0f, y, yOff + (long) gi * ocg * p, p);
    }
    if (b != null) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        float bias = b.getAtIndex(F32, oc);
        long row = yOff + (long) oc * p;
        for (int i = 0; i < p; i++) {
          y.setAtIndex(F32, row + i, y.getAtIndex(F32, row + i) + bias);
        }
      }
    }
  }

  /**
   * Backward of {@link #forwardImage} for one image. Weight gradient: dW_g (OCg, R) += dy_g (OCg,
   * P) * col_g^T (P, R), written (beta 0) when {@code firstImage}, accumulated otherwise; bias
   * gradient likewise into {@code db} (may be null). Input gradient when {@code dx} is not null:
   * dcol_g (R, P) = W_g^T (R, OCg) * dy_g (OCg, P), then col2im into dx_img (overwritten).
   */
  public static void backwardImage(
      ConvGeometry g, MemorySegment x, long xOff, MemorySegment w, MemorySegment dy, long dyOff,
      MemorySegment col, MemorySegment dw, MemorySegment db, boolean firstImage,
      MemorySegment dx, long dxOff) {
    boolean pointwise = g.isPointwise();
    MemorySegment cols = col;
    long colOff = 0;
    if (pointwise) {
      cols = x;
      colOff = xOff;
    } else {
      Im2col.im2col(g, x, xOff, col, 0);
    }
    int r = g.colRows();
    int p = g.outPixels();
    int ocg = g.outChannelsPerGroup();
    float beta = firstImage ? 0f : 1f;
    for (int gi = 0; gi < g.groups(); gi++) {
      Gemm.sgemm(false, true, ocg, r, p, 1f, dy, dyOff + (long) gi * ocg * p, p,
          cols, colOff + (long) gi * r * p, p, beta, dw, (long) gi * ocg * r, r);
    }
    if (db != null) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        long row = dyOff + (long) oc * p;
        float sum = 0f;
        for (int i = 0; i < p; i++) {
          sum += dy.getAtIndex(F32, row + i);
        }
        db.setAtIndex(F32, oc, firstImage ? sum : db.getAtIndex(F32, oc) + sum);
      }
    }
    if (dx == null) {
      return;
    }
    // The im2col matrix is no longer needed, so its buffer takes dcol; a pointwise convolution's
    // dcol is dx itself.
    MemorySegment dcol = pointwise ? dx : col;
    long dcolOff = pointwise ? dxOff : 0;
    for (int gi = 0; gi < g.groups(); gi++) {
      Gemm.sgemm(true, false, r, p, ocg, 1f, w, (long) gi * ocg * r, r,
          dy, dyOff + (long) gi * ocg * p, p, 0f, dcol, dcolOff + (long) gi * r * p, p);
    }
    if (!pointwise) {
      Im2col.col2im(g, col, 0, dx, dxOff);
    }
  }
}
