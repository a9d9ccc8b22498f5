package io.dlsql.executor.kernel.winograd;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.kernel.conv.ConvCost;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import java.lang.foreign.MemorySegment;

/**
 * Winograd F(4x4, 3x3) convolution for 3x3, stride-1, undilated, ungrouped layers: each 4x4
 * output tile is {@code A^T [(G g G^T) . (B^T d B)] A} of a 6x6 input patch d, so a tile costs 36
 * multiplications per (input, output) channel pair instead of 144. The 36 element-wise products
 * summed over input channels are 36 GEMMs, (OC x C) x (C x tiles), over the tiles of a block of
 * images. Both backward passes are the exact adjoints in the same transformed domain: the input
 * gradient is {@code B [U . (A dy A^T)] B^T} overlap-added per tile, the weight gradient {@code
 * G^T [sum over tiles of (B^T d B) . (A dy A^T)] G}. Accuracy: the transforms scale values by up
 * to about 100 (entries 4, 5 and 8 of B and A), so errors grow by one to two decimal digits over
 * direct summation; {@link #ACCURACY_FACTOR} bounds it for tests and the planner.
 *
 * <p>Layout: x (N, C, H, W), w (OC, C, 3, 3), y (N, OC, OH, OW). Workspaces: the transformed
 * weights {@code U} of {@link #transformedWeightsSize} floats per layer, and per thread {@link
 * #workspaceSize} floats (plus {@link #weightGradientWorkspaceSize} in backward). Offsets are in
 * floats.
 */
public final class WinogradConv2d {
  private WinogradConv2d() {}

  /** Output tile edge. */
  public static final int TILE = 4;
  /** Input tile edge: TILE + 3 - 1. */
  public static final int INPUT_TILE = 6;
  /** Points of the transformed domain per tile. */
  public static final int POINTS = INPUT_TILE * INPUT_TILE;
  /** Kernel edge. */
  static final int KERNEL = 3;
  /** Tiles to aim for per GEMM: wide enough for the micro-kernel, small enough for cache. */
  static final int TARGET_TILES = 256;
  static final int MAX_IMAGES_PER_BLOCK = 64;
  /**
   * Measured error over direct float32 summation, as a factor on its tolerance: random inputs in
   * [-1, 1] give relative errors about 10x those of im2col; 30 leaves a margin.
   */
  public static final double ACCURACY_FACTOR = 30;

  /** Whether F(4x4, 3x3) computes {@code g}: 3x3 kernel, stride 1, dilation 1, one group. */
  public static boolean supports(ConvGeometry g) {
    return g.kernelH() == KERNEL && g.kernelW() == KERNEL && g.strideH() == 1 && g.strideW() == 1
        && g.dilationH() == 1 && g.dilationW() == 1 && g.groups() == 1;
  }

  static int tilesH(ConvGeometry g) {
    return Math.ceilDiv(g.outHeight(), TILE);
  }

  static int tilesW(ConvGeometry g) {
    return Math.ceilDiv(g.outWidth(), TILE);
  }

  /** Tiles per image. */
  public static int tilesPerImage(ConvGeometry g) {
    return tilesH(g) * tilesW(g);
  }

  /** Images per block of GEMMs. */
  public static int imagesPerBlock(ConvGeometry g) {
    return Math.clamp(Math.ceilDiv(TARGET_TILES, tilesPerImage(g)), 1, MAX_IMAGES_PER_BLOCK);
  }

  /** Floats of the transformed weights U: 36 x OC x C. */
  public static long transformedWeightsSize(ConvGeometry g) {
    return (long) POINTS * g.outChannels() * g.inChannels();
  }

  /** Floats of workspace one thread needs: transformed inputs and transformed outputs of a block. */
  public static long workspaceSize(ConvGeometry g) {
    long tiles = (long) imagesPerBlock(g) * tilesPerImage(g);
    return (long) POINTS * (g.inChannels() + g.outChannels()) * tiles;
  }

  /** Floats one thread needs in backward for its transformed weight gradient: 36 x OC x C. */
  public static long weightGradientWorkspaceSize(ConvGeometry g) {
    return transformedWeightsSize(g);
  }

  /** Multiplications in the transformed domain per output pixel and channel pair, against 9 direct. */
  public static double multiplyFactor(ConvGeometry g) {
    double tiles = (double) tilesPerImage(g) * POINTS;
    return tiles / ((double) g.outPixels() * KERNEL * KERNEL);
  }

  /** Operations of one input or adjoint output transform of a tile and channel: twelve 1-D transforms of ~12. */
  static final int INPUT_TRANSFORM_FLOPS = 144;
  /** Operations of one output transform (or adjoint input transform) of a tile and channel. */
  static final int OUTPUT_TRANSFORM_FLOPS = 100;

  /** The cost of {@code batch} images: 36 GEMMs plus the transforms, and the transformed data moved. */
  public static ConvCost cost(ConvGeometry g, int batch) {
    long tiles = (long) batch * tilesPerImage(g);
    long c = g.inChannels();
    long oc = g.outChannels();
    long gemm = 2L * POINTS * tiles * c * oc;
    long forward = gemm + tiles * (c * INPUT_TRANSFORM_FLOPS + oc * OUTPUT_TRANSFORM_FLOPS);
    // Backward: Q and V transforms, the weight-gradient GEMMs and the input-gradient GEMMs, B P B^T.
    long backward = 2 * gemm + tiles * (oc * INPUT_TRANSFORM_FLOPS + c * (INPUT_TRANSFORM_FLOPS + OUTPUT_TRANSFORM_FLOPS));
    long io = (long) batch * (g.inputSize() + g.outputSize()) + g.weightCount();
    long transformed = 2L * POINTS * tiles * (c + oc);
    return new ConvCost(forward, backward,
        Float.BYTES * (io + transformed), Float.BYTES * (2 * io + 2 * transformed),
        Float.BYTES * (workspaceSize(g) + weightGradientWorkspaceSize(g)),
        Float.BYTES * transformedWeightsSize(g));
  }

  /** U[p][oc][c] = (G w[oc][c] G^T)[p] for the 36 points p. */
  public static void transformWeights(ConvGeometry g, MemorySegment w, MemorySegment u) {
    int oc = g.outChannels();
    int c = g.inChannels();
    float[] k = new float[KERNEL * KERNEL];
    float[] t = new float[INPUT_TILE * KERNEL];
    float[] out = new float[POINTS];
    long plane = (long) oc * c;
    for (int o = 0; o < oc; o++) {
      for (int i = 0; i < c; i++) {
        long base = ((long) o * c + i) * KERNEL * KERNEL;
        for (int j = 0; j < k.length; j++) {
          k[j] = w.getAtIndex(F32, base + j);
        }
        // t = G k (6x3): G applied to each column of k.
        for (int col = 0; col < KERNEL; col++) {
          kernelTransform(k[col], k[KERNEL + col], k[2 * KERNEL + col], t, col, KERNEL);
        }
        // out = t G^T (6x6): G applied to each row of t.
        for (int row = 0; row < INPUT_TILE; row++) {
          kernelTransform(t[row * KERNEL], t[row * KERNEL + 1], t[row * KERNEL + 2], out,
              row * INPUT_TILE, 1);
        }
        long at = (long) o * c + i;
        for (int p = 0; p < POINTS; p++) {
          u.setAtIndex(F32, p * plane + at, out[p]);
        }
      }
    }
  }

  /** Writes G (g0, g1, g2) to out[at + s * i] for i in 0..5. */
  private static void kernelTransform(float g0, float g1, float g2, float[] out, int at, int s) {
    out[at] = g0 / 4f;
    out[at + s] = -(g0 + g1 + g2) / 6f;
    out[at + 2 * s] = -(g0 - g1 + g2) / 6f;
    out[at + 3 * s] = g0 / 24f + g1 / 12f + g2 / 6f;
    out[at + 4 * s] = g0 / 24f - g1 / 12f + g2 / 6f;
    out[at + 5 * s] = g2;
  }

  /** G^T (z0..z5) into out[at + s * k], k in 0..2: the adjoint of {@link #kernelTransform}. */
  private static void kernelTransformAdjoint(float[] z, int zAt, int zs, float[] out, int at, int s) {
    float z0 = z[zAt];
    float z1 = z[zAt + zs];
    float z2 = z[zAt + 2 * zs];
    float z3 = z[zAt + 3 * zs];
    float z4 = z[zAt + 4 * zs];
    float z5 = z[zAt + 5 * zs];
    out[at] = z0 / 4f - z1 / 6f - z2 / 6f + z3 / 24f + z4 / 24f;
    out[at + s] = -z1 / 6f + z2 / 6f + z3 / 12f - z4 / 12f;
    out[at + 2 * s] = -z1 / 6f - z2 / 6f + z3 / 6f + z4 / 6f + z5;
  }

  /** B^T applied to d[at + s*i], i in 0..5, in place. */
  private static void inputTransform(float[] d, int at, int s) {
    float d0 = d[at];
    float d1 = d[at + s];
    float d2 = d[at + 2 * s];
    float d3 = d[at + 3 * s];
    float d4 = d[at + 4 * s];
    float d5 = d[at + 5 * s];
    d[at] = 4f * d0 - 5f * d2 + d4;
    d[at + s] = -4f * (d1 + d2) + d3 + d4;
    d[at + 2 * s] = 4f * (d1 - d2) - d3 + d4;
    d[at + 3 * s] = 2f * (d3 - d1) - d2 + d4;
    d[at + 4 * s] = 2f * (d1 - d3) - d2 + d4;
    d[at + 5 * s] = 4f * d1 - 5f * d3 + d5;
  }

  /** B applied to p[at + s*i], i in 0..5, in place: the adjoint of {@link #inputTransform}. */
  private static void inputTransformAdjoint(float[] p, int at, int s) {
    float p0 = p[at];
    float p1 = p[at + s];
    float p2 = p[at + 2 * s];
    float p3 = p[at + 3 * s];
    float p4 = p[at + 4 * s];
    float p5 = p[at + 5 * s];
    p[at] = 4f * p0;
    p[at + s] = -4f * p1 + 4f * p2 - 2f * p3 + 2f * p4 + 4f * p5;
    p[at + 2 * s] = -5f * p0 - 4f * p1 - 4f * p2 - p3 - p4;
    p[at + 3 * s] = p1 - p2 + 2f * p3 - 2f * p4 - 5f * p5;
    p[at + 4 * s] = p0 + p1 + p2 + p3 + p4;
    p[at + 5 * s] = p5;
  }

  /** A^T (m0..m5) into out[at + s*k], k in 0..3. */
  private static void outputTransform(float[] m, int mAt, int ms, float[] out, int at, int s) {
    float m0 = m[mAt];
    float m1 = m[mAt + ms];
    float m2 = m[mAt + 2 * ms];
    float m3 = m[mAt + 3 * ms];
    float m4 = m[mAt + 4 * ms];
    float m5 = m[mAt + 5 * ms];
    float a = m1 + m2;
    float b = m1 - m2;
    float c = m3 + m4;
    float d = m3 - m4;
    out[at] = m0 + a + c;
    out[at + s] = b + 2f * d;
    out[at + 2 * s] = a + 4f * c;
    out[at + 3 * s] = b + 8f * d + m5;
  }

  /** A (q0..q3) into out[at + s*i], i in 0..5: the adjoint of {@link #outputTransform}. */
  private static void outputTransformAdjoint(float[] q, int qAt, int qs, float[] out, int at, int s) {
    float q0 = q[qAt];
    float q1 = q[qAt + qs];
    float q2 = q[qAt + 2 * qs];
    float q3 = q[qAt + 3 * qs];
    out[at] = q0;
    out[at + s] = q0 + q1 + q2 + q3;
    out[at + 2 * s] = q0 - q1 + q2 - q3;
    out[at + 3 * s] = q0 + 2f * q1 + 4f * q2 + 8f * q3;
    out[at + 4 * s] = q0 - 2f * q1 + 4f * q2 - 8f * q3;
    out[at + 5 * s] = q3;
  }

  /**
   * V[p][c][t] = (B^T d B)[p] for every channel and tile t of {@code images} images at xOff;
   * V has {@code tiles} columns.
   */
  private static void transformInputs(
      ConvGeometry g, int images, MemorySegment x, long xOff, MemorySegment v, int tiles) {
    int h = g.inHeight();
    int w = g.inWidth();
    int th = tilesH(g);
    int tw = tilesW(g);
    int per = th * tw;
    long plane = (long) g.inChannels() * tiles;
    float[] d = new float[POINTS];
    for (int img = 0; img < images; img++) {
      for (int c = 0; c < g.inChannels(); c++) {
        long in = xOff + img * g.inputSize() + (long) c * h * w;
        for (int ty = 0; ty < th; ty++) {
          int y0 = ty * TILE - g.padTop();
          for (int tx = 0; tx < tw; tx++) {
            int x0 = tx * TILE - g.padLeft();
            for (int r = 0; r < INPUT_TILE; r++) {
              int iy = y0 + r;
              boolean rowIn = iy >= 0 && iy < h;
              for (int q = 0; q < INPUT_TILE; q++) {
                int ix = x0 + q;
                d[r * INPUT_TILE + q] = rowIn && ix >= 0 && ix < w ? x.getAtIndex(F32, in + (long) iy * w + ix) : 0f;
              }
            }
            for (int q = 0; q < INPUT_TILE; q++) {
              inputTransform(d, q, INPUT_TILE);
            }
            for (int r = 0; r < INPUT_TILE; r++) {
              inputTransform(d, r * INPUT_TILE, 1);
            }
            long at = (long) c * tiles + img * per + ty * tw + tx;
            for (int p = 0; p < POINTS; p++) {
              v.setAtIndex(F32, p * plane + at, d[p]);
            }
          }
        }
      }
    }
  }

  /**
   * y (count, OC, OH, OW) = act(conv(x, w) + b) given U from {@link #transformWeights}; b may be
   * null; ws holds {@link #workspaceSize} floats.
   */
  public static void forward(
      ConvGeometry g, int count, MemorySegment x, long xOff, MemorySegment u, MemorySegment b,
      FusedActivation act, MemorySegment ws, MemorySegment y, long yOff) {
    int step = imagesPerBlock(g);
    for (int first = 0; first < count; first += step) {
      int images = Math.min(step, count - first);
      forwardBlock(g, images, x, xOff + first * g.inputSize(), u, b, act, ws, y, yOff + first * g.outputSize());
    }
  }

  private static void forwardBlock(
      ConvGeometry g, int images, MemorySegment x, long xOff, MemorySegment u, MemorySegment b,
      FusedActivation act, MemorySegment ws, MemorySegment y, long yOff) {
    int c = g.inChannels();
    int oc = g.outChannels();
    int per = tilesPerImage(g);
    int tiles = images * per;
    long mOff = (long) POINTS * c * tiles;
    transformInputs(g, images, x, xOff, ws, tiles);
    for (int p = 0; p < POINTS; p++) {
      Gemm.sgemm(false, false, oc, tiles, c, 1f, u, (long) p * oc * c, c,
          ws, (long) p * c * tiles, tiles, 0f, ws, mOff + (long) p * oc * tiles, tiles);
    }
    int th = tilesH(g);
    int tw = tilesW(g);
    int oh = g.outHeight();
    int ow = g.outWidth();
    long plane = (long) oc * tiles;
    float[] m = new float[POINTS];
    float[] t = new float[TILE * INPUT_TILE];
    float[] out = new float[TILE * TILE];
    for (int img = 0; img < images; img++) {
      for (int o = 0; o < oc; o++) {
        float bias = b == null ? 0f : b.getAtIndex(F32, o);
        long dst = yOff + img * g.outputSize() + (long) o * oh * ow;
        for (int ty = 0; ty < th; ty++) {
          for (int tx = 0; tx < tw; tx++) {
            long at = mOff + (long) o * tiles + img * per + ty * tw + tx;
            for (int p = 0; p < POINTS; p++) {
              m[p] = ws.getAtIndex(F32, at + p * plane);
            }
            // t = A^T m (4x6), then out = t A (4x4).
            for (int q = 0; q < INPUT_TILE; q++) {
              outputTransform(m, q, INPUT_TILE, t, q, INPUT_TILE);
            }
            for (int r = 0; r < TILE; r++) {
              outputTransform(t, r * INPUT_TILE, 1, out, r * TILE, 1);
            }
            int rows = Math.min(TILE, oh - ty * TILE);
            int cols = Math.min(TILE, ow - tx * TILE);
            for (int r = 0; r < rows; r++) {
              long row = dst + (long) (ty * TILE + r) * ow + tx * TILE;
              for (int q = 0; q < cols; q++) {
                y.setAtIndex(F32, row + q, act.apply(out[r * TILE + q] + bias));
              }
            }
          }
        }
      }
    }
  }

  /**
   * Backward of {@link #forward} for {@code count} images with U from the forward's weights. y is
   * the forward's output (read for the fused activation's mask). The weight gradient is written
   * (or added, with {@code accumulate}) to dw, using {@code z} ({@link
   * #weightGradientWorkspaceSize} floats) for its transformed sums; the bias gradient to db (may
   * be null); the input gradient to dx (overwritten) when not null.
   */
  public static void backward(
      ConvGeometry g, int count, MemorySegment x, long xOff, MemorySegment u, FusedActivation act,
      MemorySegment y, long yOff, MemorySegment dy, long dyOff, MemorySegment ws, MemorySegment z,
      MemorySegment dw, MemorySegment db, boolean accumulate, MemorySegment dx, long dxOff) {
    int step = imagesPerBlock(g);
    for (int first = 0; first < count; first += step) {
      int images = Math.min(step, count - first);
      backwardBlock(g, images, x, xOff + first * g.inputSize(), u, act, y, yOff + first * g.outputSize(),
          dy, dyOff + first * g.outputSize(), ws, z, first > 0, db, accumulate || first > 0,
          dx, dx == null ? 0 : dxOff + first * g.inputSize());
    }
    weightGradientFromTransformed(g, z, dw, accumulate);
  }

  private static void backwardBlock(
      ConvGeometry g, int images, MemorySegment x, long xOff, MemorySegment u, FusedActivation act,
      MemorySegment y, long yOff, MemorySegment dy, long dyOff, MemorySegment ws, MemorySegment z,
      boolean zAccumulate, MemorySegment db, boolean dbAccumulate, MemorySegment dx, long dxOff) {
    int c = g.inChannels();
    int oc = g.outChannels();
    int per = tilesPerImage(g);
    int tiles = images * per;
    int th = tilesH(g);
    int tw = tilesW(g);
    int oh = g.outHeight();
    int ow = g.outWidth();
    long qOff = (long) POINTS * c * tiles;
    long plane = (long) oc * tiles;
    // Q[p][oc][t] = (A dz A^T)[p] with dz = act'(y) * dy, zero outside the output.
    float[] dq = new float[TILE * TILE];
    float[] t = new float[INPUT_TILE * TILE];
    float[] q = new float[POINTS];
    for (int img = 0; img < images; img++) {
      for (int o = 0; o < oc; o++) {
        long src = img * g.outputSize() + (long) o * oh * ow;
        double biasSum = 0;
        for (int ty = 0; ty < th; ty++) {
          for (int tx = 0; tx < tw; tx++) {
            int rows = Math.min(TILE, oh - ty * TILE);
            int cols = Math.min(TILE, ow - tx * TILE);
            java.util.Arrays.fill(dq, 0f);
            for (int r = 0; r < rows; r++) {
              long row = src + (long) (ty * TILE + r) * ow + tx * TILE;
              for (int s = 0; s < cols; s++) {
                float grad = act.backward(dy.getAtIndex(F32, dyOff + row + s), y.getAtIndex(F32, yOff + row + s));
                dq[r * TILE + s] = grad;
                biasSum += grad;
              }
            }
            // t = A dq (6x4), then q = t A^T (6x6).
            for (int s = 0; s < TILE; s++) {
              outputTransformAdjoint(dq, s, TILE, t, s, TILE);
            }
            for (int r = 0; r < INPUT_TILE; r++) {
              outputTransformAdjoint(t, r * TILE, 1, q, r * INPUT_TILE, 1);
            }
            long at = qOff + (long) o * tiles + img * per + ty * tw + tx;
            for (int p = 0; p < POINTS; p++) {
              ws.setAtIndex(F32, at + p * plane, q[p]);
            }
          }
        }
        if (db != null) {
          float before = dbAccumulate || img > 0 ? db.getAtIndex(F32, o) : 0f;
          db.setAtIndex(F32, o, before + (float) biasSum);
        }
      }
    }
    // Z[p] (OC x C) (+)= Q[p] (OC x T) * V[p]^T (T x C).
    transformInputs(g, images, x, xOff, ws, tiles);
    for (int p = 0; p < POINTS; p++) {
      Gemm.sgemm(false, true, oc, c, tiles, 1f, ws, qOff + (long) p * oc * tiles, tiles,
          ws, (long) p * c * tiles, tiles, zAccumulate ? 1f : 0f, z, (long) p * oc * c, c);
    }
    if (dx == null) {
      return;
    }
    // P[p] (C x T) = U[p]^T (C x OC) * Q[p] (OC x T), into V's place; then dx = overlap-add of B P B^T.
    for (int p = 0; p < POINTS; p++) {
      Gemm.sgemm(true, false, c, tiles, oc, 1f, u, (long) p * oc * c, c,
          ws, qOff + (long) p * oc * tiles, tiles, 0f, ws, (long) p * c * tiles, tiles);
    }
    int h = g.inHeight();
    int w = g.inWidth();
    long vPlane = (long) c * tiles;
    float[] d = new float[POINTS];
    dx.asSlice(dxOff * Float.BYTES, images * g.inputSize() * Float.BYTES).fill((byte) 0);
    for (int img = 0; img < images; img++) {
      for (int ch = 0; ch < c; ch++) {
        long base = dxOff + img * g.inputSize() + (long) ch * h * w;
        for (int ty = 0; ty < th; ty++) {
          int y0 = ty * TILE - g.padTop();
          for (int tx = 0; tx < tw; tx++) {
            int x0 = tx * TILE - g.padLeft();
            long at = (long) ch * tiles + img * per + ty * tw + tx;
            for (int p = 0; p < POINTS; p++) {
              d[p] = ws.getAtIndex(F32, at + p * vPlane);
            }
            for (int s = 0; s < INPUT_TILE; s++) {
              inputTransformAdjoint(d, s, INPUT_TILE);
            }
            for (int r = 0; r < INPUT_TILE; r++) {
              inputTransformAdjoint(d, r * INPUT_TILE, 1);
            }
            for (int r = 0; r < INPUT_TILE; r++) {
              int iy = y0 + r;
              if (iy < 0 || iy >= h) {
                continue;
              }
              for (int s = 0; s < INPUT_TILE; s++) {
                int ix = x0 + s;
                if (ix >= 0 && ix < w) {
                  long i = base + (long) iy * w + ix;
                  dx.setAtIndex(F32, i, dx.getAtIndex(F32, i) + d[r * INPUT_TILE + s]);
                }
              }
            }
          }
        }
      }
    }
  }

  /** dw[oc][c] (+)= G^T Z[.][oc][c] G for every channel pair. */
  private static void weightGradientFromTransformed(
      ConvGeometry g, MemorySegment z, MemorySegment dw, boolean accumulate) {
    int oc = g.outChannels();
    int c = g.inChannels();
    long plane = (long) oc * c;
    float[] zz = new float[POINTS];
    float[] t = new float[KERNEL * INPUT_TILE];
    float[] k = new float[KERNEL * KERNEL];
    for (int o = 0; o < oc; o++) {
      for (int i = 0; i < c; i++) {
        long at = (long) o * c + i;
        for (int p = 0; p < POINTS; p++) {
          zz[p] = z.getAtIndex(F32, p * plane + at);
        }
        // t = G^T zz (3x6), then k = t G (3x3).
        for (int q = 0; q < INPUT_TILE; q++) {
          kernelTransformAdjoint(zz, q, INPUT_TILE, t, q, INPUT_TILE);
        }
        for (int r = 0; r < KERNEL; r++) {
          kernelTransformAdjoint(t, r * INPUT_TILE, 1, k, r * KERNEL, 1);
        }
        long base = at * KERNEL * KERNEL;
        for (int j = 0; j < k.length; j++) {
          float before = accumulate ? dw.getAtIndex(F32, base + j) : 0f;
          dw.setAtIndex(F32, base + j, before + k[j]);
        }
      }
    }
  }
}
