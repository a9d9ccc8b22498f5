package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stride-1 convolution as a GEMM whose B operand is never materialised (implicit GEMM). Each
 * image is copied once into a zero-padded buffer whose rows are {@code W + gap} floats apart (the
 * gap of zeros after a row doubles as the left padding of the next row). On that buffer the
 * im2col row of tap {@code (c, kh, kw)} is one contiguous run starting at a fixed offset: output
 * {@code (oh, ow)} sits at column {@code oh * (W + gap) + ow} of a "grid" that is {@code gap}
 * columns wider than the output, and the extra columns are computed and dropped. So the GEMM
 * {@code grid (OC x OH*(W+gap)) = W (OC x C*KH*KW) * B} reads B straight from the padded image
 * through a table of row offsets, and the im2col matrix (9 to 25 times the image) is never
 * written or read.
 *
 * <p>The three passes:
 *
 * <ul>
 *   <li>forward: the register-blocked tile ({@value #MR} output channels by two vectors of grid
 *       columns) over the padded input, then bias and activation while the grid is copied to y;
 *   <li>input gradient: for stride 1 the adjoint of a convolution is the convolution of the
 *       (masked) output gradient with the kernel flipped and its channel axes swapped, padded by
 *       {@code (K-1)*d - pad}; that is the forward kernel again on a {@link #transposed} geometry,
 *       so there is no col2im and its scattered additions;
 *   <li>weight gradient: {@code dW[oc][tap] = sum over images and grid columns of dz[oc][j] *
 *       xpad[offset(tap) + j]}, with dz laid out on the grid (zeros in the extra columns): dot
 *       products of contiguous runs, four output channels by four taps per register block, summed
 *       over a group of images before the lanes are added (in lane order, so deterministic).
 * </ul>
 *
 * <p>Scratch lives in per-thread heap buffers ({@link Workspace}) that only grow, so steady-state
 * calls allocate nothing. Groups of 1 only (grouped and depthwise convolutions use other
 * algorithms). Offsets into segments are in floats; weights are (OC, C, KH, KW).
 */
public final class ImplicitGemmConv2d {
  private ImplicitGemmConv2d() {}

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int V = SPECIES.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  /** Output channels per register tile: 8 rows of two vectors use 16 of the 32 AVX-512 registers. */
  static final int MR = 8;
  /** Grid columns per register tile. */
  static final int NR = 2 * V;
  /** Output channels and taps per weight-gradient register block (16 accumulators). */
  private static final int DOT_BLOCK = 4;
  /**
   * Grid columns the weight gradient sums before adding its lanes into dW: long enough that the
   * lane sums are a small share of the work, short enough that a group's padded images stay in L2.
   */
  static final int TARGET_GROUP_COLUMNS = 8192;
  /** Upper bound on images per weight-gradient group, so tiny maps do not make huge buffers. */
  static final int MAX_GROUP_IMAGES = 64;
  /**
   * Maps whose grid is at most this many columns are stacked: several images one above the other
   * in one padded buffer (see {@link #stack}), so tiles and dot products run over long rows.
   */
  static final int STACK_MAX_IMAGE_COLUMNS = 128;
  /** Grid columns a stack aims at. */
  static final int STACK_TARGET_COLUMNS = 512;

  /**
   * Whether this algorithm computes {@code g}: stride 1, one group, and padding no larger than the
   * kernel's reach on any side (so the transposed convolution of the input gradient has
   * non-negative padding too).
   */
  public static boolean supports(ConvGeometry g) {
    if (g.strideH() != 1 || g.strideW() != 1 || g.groups() != 1) {
      return false;
    }
    int reachH = (g.kernelH() - 1) * g.dilationH();
    int reachW = (g.kernelW() - 1) * g.dilationW();
    int padBottom = padBottom(g);
    int padRight = padRight(g);
    return g.padTop() >= 0 && g.padLeft() >= 0 && padBottom >= 0 && padRight >= 0
        && g.padTop() <= reachH && padBottom <= reachH && g.padLeft() <= reachW && padRight <= reachW;
  }

  /** Bottom padding implied by the output height (stride 1). */
  static int padBottom(ConvGeometry g) {
    return g.outHeight() + (g.kernelH() - 1) * g.dilationH() - g.inHeight() - g.padTop();
  }

  /** Right padding implied by the output width (stride 1). */
  static int padRight(ConvGeometry g) {
    return g.outWidth() + (g.kernelW() - 1) * g.dilationW() - g.inWidth() - g.padLeft();
  }

  /**
   * The geometry whose forward pass is this geometry's input gradient: dy (OC, OH, OW) in, dx
   * (C, H, W) out, same kernel and dilation, padding {@code (K-1)*d - pad} on each side.
   */
  public static ConvGeometry transposed(ConvGeometry g) {
    int reachH = (g.kernelH() - 1) * g.dilationH();
    int reachW = (g.kernelW() - 1) * g.dilationW();
    return new ConvGeometry(g.outChannels(), g.outHeight(), g.outWidth(), g.inChannels(),
        g.kernelH(), g.kernelW(), 1, 1, reachH - g.padTop(), reachW - g.padLeft(),
        g.dilationH(), g.dilationW(), 1, g.inHeight(), g.inWidth());
  }

  /**
   * Images per stack for {@code g}: small maps (7 x 7) make grids too short for the tiles and the
   * weight gradient's dot products (a few vectors per image, then loop overhead and rounding), so
   * their images are stacked vertically with {@link #gapRows} zero rows between neighbours and
   * convolved as one tall image; 1 for larger maps.
   */
  static int stack(ConvGeometry g) {
    int columns = g.outHeight() * Padded.of(g).rowStride();
    if (columns > STACK_MAX_IMAGE_COLUMNS) {
      return 1;
    }
    int perImage = (g.inHeight() + gapRows(g)) * Padded.of(g).rowStride();
    return Math.max(1, STACK_TARGET_COLUMNS / perImage);
  }

  /**
   * Zero rows between stacked images: no output row of one image reaches into its neighbour's
   * input rows (nor, in the transposed convolution, its neighbour's output gradient rows).
   */
  static int gapRows(ConvGeometry g) {
    return Math.max(g.padTop(), padBottom(g));
  }

  /** Input rows from one stacked image to the next (its output rows are as far apart). */
  static int rowsPerImage(ConvGeometry g) {
    return g.inHeight() + gapRows(g);
  }

  /** The tall geometry of {@code images} images of {@code g} stacked. */
  static ConvGeometry stacked(ConvGeometry g, int images) {
    if (images == 1) {
      return g;
    }
    int h = images * rowsPerImage(g) - gapRows(g);
    int oh = (images - 1) * rowsPerImage(g) + g.outHeight();
    return new ConvGeometry(g.inChannels(), h, g.inWidth(), g.outChannels(), g.kernelH(), g.kernelW(),
        1, 1, g.padTop(), g.padLeft(), g.dilationH(), g.dilationW(), 1, oh, g.outWidth());
  }

  /**
   * Where one zero-padded image lives in a buffer: each channel a plane of {@code planeFloats},
   * data row {@code ih} at {@code lead + (ih + padTop) * rowStride}, zeros everywhere else; the
   * output grid has {@code gridColumns} columns, computed in {@code paddedColumns} (whole tiles).
   */
  record Padded(int rowStride, int lead, int planeFloats, int gridColumns, int paddedColumns, int[] offsets) {
    static Padded of(ConvGeometry g) {
      int gap = Math.max(0, Math.max(Math.max(g.padLeft(), padRight(g)), g.outWidth() - g.inWidth()));
      int rowStride = g.inWidth() + gap;
      int lead = g.padLeft();
      int rows = g.outHeight() + (g.kernelH() - 1) * g.dilationH();
      int grid = g.outHeight() * rowStride;
      int padded = roundUp(grid, NR);
      // Room for the tiles' reads past the last row: they land on zeros of the same plane.
      int plane = roundUp(lead + rows * rowStride + (padded - grid) + (g.kernelW() - 1) * g.dilationW() + V, V);
      int taps = g.kernelH() * g.kernelW();
      int[] offsets = new int[g.inChannels() * taps];
      for (int c = 0; c < g.inChannels(); c++) {
        for (int kh = 0; kh < g.kernelH(); kh++) {
          for (int kw = 0; kw < g.kernelW(); kw++) {
            offsets[c * taps + kh * g.kernelW() + kw] =
                c * plane + lead + kh * g.dilationH() * rowStride + kw * g.dilationW() - g.padLeft();
          }
        }
      }
      return new Padded(rowStride, lead, plane, grid, padded, offsets);
    }

    /** Floats of one padded image (all channels). */
    int imageFloats(int channels) {
      return channels * planeFloats;
    }
  }

  /** Output channels rounded up to whole register tiles: the rows of the packed weights. */
  static int paddedRows(int outChannels) {
    return roundUp(outChannels, MR);
  }

  /** Floats {@link #packWeights} writes for {@code g}. */
  public static int packedWeightsSize(ConvGeometry g) {
    return paddedRows(g.outChannels()) * g.colRows();
  }

  /** Floats {@link #packTransposedWeights} writes for {@code g} (the packed weights of {@link #transposed}). */
  public static int packedTransposedWeightsSize(ConvGeometry g) {
    return paddedRows(g.inChannels()) * g.outChannels() * g.kernelH() * g.kernelW();
  }

  /**
   * Packs w (OC, R) into slivers of {@value #MR} output channels: sliver s holds, for each tap r,
   * the weights of channels {@code 8s .. 8s+7} (zeros past OC), so the tile reads them in order.
   */
  public static void packWeights(ConvGeometry g, MemorySegment w, float[] dst) {
    int r = g.colRows();
    int rows = paddedRows(g.outChannels());
    for (int s = 0; s < rows; s += MR) {
      for (int k = 0; k < r; k++) {
        for (int i = 0; i < MR; i++) {
          int oc = s + i;
          dst[s * r + k * MR + i] = oc < g.outChannels() ? w.getAtIndex(F32, (long) oc * r + k) : 0f;
        }
      }
    }
  }

  /**
   * Packs the weights of {@link #transposed}{@code (g)} as {@link #packWeights} would:
   * {@code W'[c][oc][kh][kw] = W[oc][c][KH-1-kh][KW-1-kw]}.
   */
  public static void packTransposedWeights(ConvGeometry g, MemorySegment w, float[] dst) {
    int kh = g.kernelH();
    int kw = g.kernelW();
    int taps = kh * kw;
    int oc = g.outChannels();
    int r = oc * taps;
    int rows = paddedRows(g.inChannels());
    for (int s = 0; s < rows; s += MR) {
      for (int o = 0; o < oc; o++) {
        for (int t = 0; t < taps; t++) {
          int flipped = taps - 1 - t;
          int k = o * taps + t;
          for (int i = 0; i < MR; i++) {
            int c = s + i;
            dst[s * r + k * MR + i] = c < g.inChannels()
                ? w.getAtIndex(F32, ((long) o * g.inChannels() + c) * taps + flipped) : 0f;
          }
        }
      }
    }
  }

  /** Images whose weight gradients are summed together before their lanes are added. */
  static int groupImages(ConvGeometry g) {
    int columns = roundUp(Padded.of(g).gridColumns(), V);
    return Math.clamp(TARGET_GROUP_COLUMNS / columns, 1, MAX_GROUP_IMAGES);
  }

  /** Floats of per-thread scratch this algorithm holds for {@code g} (forward and backward). */
  public static long workspaceSize(ConvGeometry single) {
    ConvGeometry g = stacked(single, stack(single));
    Padded p = Padded.of(g);
    Padded t = Padded.of(transposed(g));
    int group = groupImages(g);
    long padded = (long) group * p.imageFloats(g.inChannels());
    long dz = (long) g.outChannels() * group * roundUp(p.gridColumns(), V);
    long dzPadded = t.imageFloats(g.outChannels());
    long grid = Math.max((long) paddedRows(g.outChannels()) * p.paddedColumns(),
        (long) paddedRows(g.inChannels()) * t.paddedColumns());
    return padded + dz + dzPadded + grid;
  }

  /**
   * Multiply-adds the forward kernel performs per image, extra grid columns and padded channels
   * included (the input gradient costs the same on the transposed geometry, the weight gradient
   * as much as the forward without the tile rounding).
   */
  public static long macsPerImage(ConvGeometry g) {
    return (long) paddedRows(g.outChannels()) * g.colRows() * Padded.of(g).paddedColumns();
  }

  // y (count, OC, OH, OW) = act(conv(x (count, C, H, W), w) + b); packed from packWeights, b may be null.
  public static void forward(
      ConvGeometry single, int count, MemorySegment x, long xOff, float[] packed, MemorySegment b,
      FusedActivation act, MemorySegment y, long yOff) {
    forward(single, count, x, xOff, packed, b, act, null, y, yOff);
  }

  /**
   * The prologue and epilogue of an int8 convolution computed on this kernel's fp32 units (the
   * executor's compress package): the input is quantized while it is padded, {@code q =
   * clamp(x * inverseInputScale, -127, 127)} rounded half up (the rounding of its {@code
   * Int8Quantizer}), so the GEMM multiplies integer-valued floats, exactly while the reduction is
   * short enough; each sum is then rescaled as {@code fma(acc, multiplier[o], bias[o])}, plus the
   * residual (same shape and offsets as y) when not null, then ReLU when asked. With null
   * multipliers the integer sums are stored as they are (bias, residual and ReLU must be absent).
   */
  public record Int8Io(float inverseInputScale, float[] multipliers, float[] bias, MemorySegment residual,
      boolean relu) {
    public Int8Io {
      if (multipliers == null && (bias != null || residual != null || relu)) {
        throw new IllegalArgumentException("an int8 epilogue without multipliers stores the raw sums");
      }
    }
  }

  // y (count, OC, OH, OW) = act(fma(conv(q(x), w), m, b) [+ r]) with q, m, b, r from io; packed holds integer-valued weights.
  public static void forwardInt8(
      ConvGeometry single, int count, MemorySegment x, long xOff, float[] packed, Int8Io io, MemorySegment y,
      long yOff) {
    forward(single, count, x, xOff, packed, null, FusedActivation.IDENTITY, io, y, yOff);
  }

  private static void forward(
      ConvGeometry single, int count, MemorySegment x, long xOff, float[] packed, MemorySegment b,
      FusedActivation act, Int8Io io, MemorySegment y, long yOff) {
    int stack = stack(single);
    ConvGeometry g = stacked(single, stack);
    Padded p = Padded.of(g);
    int rowStep = rowsPerImage(single) * p.rowStride();
    Workspace ws = Workspace.current();
    float[] xpad = ws.padded(p.imageFloats(g.inChannels()));
    float[] grid = ws.grid((long) paddedRows(g.outChannels()) * p.paddedColumns());
    ws.claim(g);
    for (int first = 0; first < count; first += stack) {
      // A short last stack leaves earlier images in the other slots; their rows are dropped.
      int images = Math.min(stack, count - first);
      for (int i = 0; i < images; i++) {
        long at = xOff + (first + i) * single.inputSize();
        if (io == null) {
          pad(g.inChannels(), single.inHeight(), g.inWidth(), g.padTop(), p, x, at, null, 0, FusedActivation.IDENTITY,
              xpad, i * rowStep);
        } else {
          padQuantized(g.inChannels(), single.inHeight(), g.inWidth(), g.padTop(), p, x, at, io.inverseInputScale(),
              xpad, i * rowStep);
        }
      }
      gemm(paddedRows(g.outChannels()), g.colRows(), p, packed, xpad, 0, grid);
      for (int i = 0; i < images; i++) {
        long at = yOff + (first + i) * single.outputSize();
        if (io == null || io.multipliers() == null) {
          store(g.outChannels(), single.outHeight(), g.outWidth(), p, grid, i * rowStep, b, act, y, at);
        } else {
          storeRescaled(g.outChannels(), single.outHeight(), g.outWidth(), p, grid, i * rowStep, io, y, at);
        }
      }
    }
  }

  /**
   * Backward of {@link #forward} for {@code count} images: {@code dz = dy * act'(y)} (y is read
   * only for a non-identity act); dW (OC, C, KH, KW) and db (may be null) written when {@code
   * accumulate} is false and added to otherwise; dx (count, C, H, W) overwritten when not null,
   * from {@code packedTransposed} ({@link #packTransposedWeights}).
   */
  public static void backward(
      ConvGeometry single, int count, MemorySegment x, long xOff, float[] packedTransposed,
      FusedActivation act, MemorySegment y, long yOff, MemorySegment dy, long dyOff,
      MemorySegment dw, MemorySegment db, boolean accumulate, MemorySegment dx, long dxOff) {
    int stack = stack(single);
    ConvGeometry g = stacked(single, stack);
    Padded p = Padded.of(g);
    ConvGeometry t = transposed(g);
    Padded pt = Padded.of(t);
    int rowStep = rowsPerImage(single) * p.rowStride();
    int transposedRowStep = rowsPerImage(single) * pt.rowStride();
    // A unit is one stack of images, the "image" of the tall geometry g.
    int group = groupImages(g);
    int oc = g.outChannels();
    int c = g.inChannels();
    int imageFloats = p.imageFloats(c);
    int dzColumns = roundUp(p.gridColumns(), V);
    Workspace ws = Workspace.current();
    float[] xpad = ws.padded((long) group * imageFloats);
    float[] dz = ws.dz((long) oc * group * dzColumns);
    float[] dzPadded = ws.dzPadded(pt.imageFloats(oc));
    float[] grid = ws.grid(Math.max((long) paddedRows(oc) * p.paddedColumns(),
        (long) paddedRows(c) * pt.paddedColumns()));
    float[] lanes = ws.lanes();
    ws.claim(g);
    int perGroup = group * stack;
    for (int first = 0; first < count; first += perGroup) {
      int units = Math.ceilDiv(Math.min(perGroup, count - first), stack);
      for (int u = 0; u < units; u++) {
        int firstImage = first + u * stack;
        int images = Math.min(stack, count - firstImage);
        if (images < stack) {
          // The empty slots of a short stack must add nothing: clear their dz (and dy) rows.
          for (int o = 0; o < oc; o++) {
            Arrays.fill(dz, o * group * dzColumns + u * dzColumns, o * group * dzColumns + (u + 1) * dzColumns, 0f);
          }
          Arrays.fill(dzPadded, 0f);
        }
        for (int i = 0; i < images; i++) {
          int img = firstImage + i;
          long yAt = yOff + img * single.outputSize();
          long dyAt = dyOff + img * single.outputSize();
          pad(c, single.inHeight(), g.inWidth(), g.padTop(), p, x, xOff + img * single.inputSize(), null, 0,
              FusedActivation.IDENTITY, xpad, u * imageFloats + i * rowStep);
          // dz on the forward grid (unit u at column u*dzColumns of each row).
          maskToGrid(oc, single.outHeight(), g.outWidth(), p.rowStride(), act, y, yAt, dy, dyAt, dz,
              group * dzColumns, u * dzColumns + i * rowStep);
          if (dx != null) {
            pad(oc, single.outHeight(), g.outWidth(), t.padTop(), pt, dy, dyAt, y, yAt, act, dzPadded,
                i * transposedRowStep);
          }
        }
        if (dx != null) {
          gemm(paddedRows(c), t.colRows(), pt, packedTransposed, dzPadded, 0, grid);
          for (int i = 0; i < images; i++) {
            store(c, single.inHeight(), g.inWidth(), pt, grid, i * transposedRowStep, null,
                FusedActivation.IDENTITY, dx, dxOff + (firstImage + i) * single.inputSize());
          }
        }
      }
      weightGradient(g, p, units, imageFloats, dz, group * dzColumns, dzColumns, xpad, lanes, dw,
          accumulate || first > 0);
      if (db != null) {
        for (int o = 0; o < oc; o++) {
          double sum = 0;
          int row = o * group * dzColumns;
          for (int j = 0; j < units * dzColumns; j++) {
            sum += dz[row + j];
          }
          float before = accumulate || first > 0 ? db.getAtIndex(F32, o) : 0f;
          db.setAtIndex(F32, o, before + (float) sum);
        }
      }
    }
  }

  /**
   * Copies {@code channels} planes of {@code h x w} from {@code src} into the padded layout {@code
   * p} at {@code dstOff} of {@code dst}, data row {@code ih} at padded row {@code ih + padTop}.
   * With {@code mask} non-null and {@code act} ReLU, copies {@code src * [mask > 0]} instead (dy
   * masked by the forward output). Only data positions are written: the zeros around them were
   * written once when the buffer was claimed and stay.
   */
  static void pad(
      int channels, int h, int w, int padTop, Padded p, MemorySegment src, long srcOff,
      MemorySegment mask, long maskOff, FusedActivation act, float[] dst, int dstOff) {
    boolean masked = mask != null && act != FusedActivation.IDENTITY;
    boolean vector = KernelSwitch.vector();
    long limit = src.byteSize() / Float.BYTES;
    for (int c = 0; c < channels; c++) {
      for (int ih = 0; ih < h; ih++) {
        long from = srcOff + ((long) c * h + ih) * w;
        long maskFrom = maskOff + ((long) c * h + ih) * w;
        int to = dstOff + c * p.planeFloats() + p.lead() + (ih + padTop) * p.rowStride();
        int j = 0;
        if (vector) {
          for (; j + V <= w; j += V) {
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, src, (from + j) * Float.BYTES, ORDER);
            if (masked) {
              VectorMask<Float> pos = FloatVector.fromMemorySegment(SPECIES, mask, (maskFrom + j) * Float.BYTES, ORDER)
                  .compare(VectorOperators.GT, 0f);
              v = FloatVector.zero(SPECIES).blend(v, pos);
            }
            v.intoArray(dst, to + j);
          }
          // A masked load is only fast while the whole vector lies inside the segment.
          if (j < w && from + j + V <= limit && (!masked || maskFrom + j + V <= mask.byteSize() / Float.BYTES)) {
            VectorMask<Float> m = SPECIES.indexInRange(j, w);
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, src, (from + j) * Float.BYTES, ORDER, m);
            if (masked) {
              VectorMask<Float> pos = FloatVector.fromMemorySegment(SPECIES, mask, (maskFrom + j) * Float.BYTES, ORDER, m)
                  .compare(VectorOperators.GT, 0f);
              v = FloatVector.zero(SPECIES).blend(v, pos);
            }
            v.intoArray(dst, to + j, m);
            j = w;
          }
        }
        for (; j < w; j++) {
          float v = src.getAtIndex(F32, from + j);
          dst[to + j] = masked && !(mask.getAtIndex(F32, maskFrom + j) > 0f) ? 0f : v;
        }
      }
    }
  }

  /** Largest int8 code magnitude, and the offset that makes clamped values positive so truncation is floor. */
  private static final float INT8_MAX = 127f;
  private static final float INT8_ROUNDING_OFFSET = INT8_MAX + 0.5f;

  /** {@link #pad} of the input's int8 codes as floats: {@code floor(clamp(x * inverse, -127, 127) + 0.5)}. */
  private static void padQuantized(
      int channels, int h, int w, int padTop, Padded p, MemorySegment src, long srcOff, float inverse, float[] dst,
      int dstOff) {
    boolean vector = KernelSwitch.vector();
    long limit = src.byteSize() / Float.BYTES;
    for (int c = 0; c < channels; c++) {
      for (int ih = 0; ih < h; ih++) {
        long from = srcOff + ((long) c * h + ih) * w;
        int to = dstOff + c * p.planeFloats() + p.lead() + (ih + padTop) * p.rowStride();
        int j = 0;
        if (vector) {
          for (; j + V <= w; j += V) {
            code(FloatVector.fromMemorySegment(SPECIES, src, (from + j) * Float.BYTES, ORDER), inverse)
                .intoArray(dst, to + j);
          }
          if (j < w && from + j + V <= limit) {
            VectorMask<Float> m = SPECIES.indexInRange(j, w);
            code(FloatVector.fromMemorySegment(SPECIES, src, (from + j) * Float.BYTES, ORDER, m), inverse)
                .intoArray(dst, to + j, m);
            j = w;
          }
        }
        for (; j < w; j++) {
          float v = Math.min(Math.max(src.getAtIndex(F32, from + j) * inverse, -INT8_MAX), INT8_MAX);
          dst[to + j] = (int) (v + INT8_ROUNDING_OFFSET) - (int) INT8_MAX;
        }
      }
    }
  }

  private static FloatVector code(FloatVector x, float inverse) {
    FloatVector v = x.mul(inverse).max(-INT8_MAX).min(INT8_MAX).add(INT8_ROUNDING_OFFSET);
    return ((IntVector) v.convert(VectorOperators.F2I, 0)).sub((int) INT8_MAX).convert(VectorOperators.I2F, 0)
        .reinterpretAsFloats();
  }

  /**
   * dz[o][column + oh * rowStride + ow] = dy * act'(y) for each output pixel of one image, rows
   * {@code ld} floats apart; the extra grid columns keep the zeros they were claimed with.
   */
  static void maskToGrid(
      int channels, int oh, int ow, int rowStride, FusedActivation act, MemorySegment y, long yOff,
      MemorySegment dy, long dyOff, float[] dz, int ld, int column) {
    boolean masked = act != FusedActivation.IDENTITY;
    boolean vector = KernelSwitch.vector();
    long limit = dy.byteSize() / Float.BYTES;
    for (int o = 0; o < channels; o++) {
      for (int r = 0; r < oh; r++) {
        long from = ((long) o * oh + r) * ow;
        int to = o * ld + column + r * rowStride;
        int j = 0;
        if (vector) {
          for (; j + V <= ow; j += V) {
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, dy, (dyOff + from + j) * Float.BYTES, ORDER);
            if (masked) {
              v = FloatVector.zero(SPECIES).blend(v,
                  FloatVector.fromMemorySegment(SPECIES, y, (yOff + from + j) * Float.BYTES, ORDER)
                      .compare(VectorOperators.GT, 0f));
            }
            v.intoArray(dz, to + j);
          }
          if (j < ow && dyOff + from + j + V <= limit && (!masked || yOff + from + j + V <= y.byteSize() / Float.BYTES)) {
            VectorMask<Float> m = SPECIES.indexInRange(j, ow);
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, dy, (dyOff + from + j) * Float.BYTES, ORDER, m);
            if (masked) {
              v = FloatVector.zero(SPECIES).blend(v,
                  FloatVector.fromMemorySegment(SPECIES, y, (yOff + from + j) * Float.BYTES, ORDER, m)
                      .compare(VectorOperators.GT, 0f));
            }
            v.intoArray(dz, to + j, m);
            j = ow;
          }
        }
        for (; j < ow; j++) {
          float v = dy.getAtIndex(F32, dyOff + from + j);
          dz[to + j] = masked && !(y.getAtIndex(F32, yOff + from + j) > 0f) ? 0f : v;
        }
      }
    }
  }

  /**
   * grid (rows x paddedColumns) = packed (rows x r, in slivers) * B, B row k = {@code
   * xpad[xOff + offsets[k] + j]}: tiles swept along a column panel, so the panel's B rows stay
   * in L1 while the weight slivers stream from L2.
   */
  static void gemm(int rows, int r, Padded p, float[] packed, float[] xpad, int xOff, float[] grid) {
    int ld = p.paddedColumns();
    int[] offsets = p.offsets();
    boolean vector = KernelSwitch.vector();
    for (int j = 0; j < ld; j += NR) {
      for (int s = 0; s < rows; s += MR) {
        if (vector) {
          tile(r, packed, s * r, xpad, offsets, xOff + j, grid, s * ld + j, ld);
        } else {
          tileScalar(r, packed, s * r, xpad, offsets, xOff + j, grid, s * ld + j, ld);
        }
      }
    }
  }

  /** One {@value #MR} x {@link #NR} tile: {@code kc} steps, broadcast of A, two FMAs per row. */
  private static void tile(
      int kc, float[] ap, int aIndex, float[] b, int[] offsets, int bBase, float[] c, int cIndex, int ldc) {
    FloatVector c00 = FloatVector.zero(SPECIES); FloatVector c01 = FloatVector.zero(SPECIES);
    FloatVector c10 = FloatVector.zero(SPECIES); FloatVector c11 = FloatVector.zero(SPECIES);
    FloatVector c20 = FloatVector.zero(SPECIES); FloatVector c21 = FloatVector.zero(SPECIES);
    FloatVector c30 = FloatVector.zero(SPECIES); FloatVector c31 = FloatVector.zero(SPECIES);
    FloatVector c40 = FloatVector.zero(SPECIES); FloatVector c41 = FloatVector.zero(SPECIES);
    FloatVector c50 = FloatVector.zero(SPECIES); FloatVector c51 = FloatVector.zero(SPECIES);
    FloatVector c60 = FloatVector.zero(SPECIES); FloatVector c61 = FloatVector.zero(SPECIES);
    FloatVector c70 = FloatVector.zero(SPECIES); FloatVector c71 = FloatVector.zero(SPECIES);
    int ai = aIndex;
    for (int k = 0; k < kc; k++) {
      int bi = bBase + offsets[k];
      FloatVector b0 = FloatVector.fromArray(SPECIES, b, bi);
      FloatVector b1 = FloatVector.fromArray(SPECIES, b, bi + V);
      FloatVector a0 = FloatVector.broadcast(SPECIES, ap[ai]);
      c00 = a0.fma(b0, c00);
      c01 = a0.fma(b1, c01);
      FloatVector a1 = FloatVector.broadcast(SPECIES, ap[ai + 1]);
      c10 = a1.fma(b0, c10);
      c11 = a1.fma(b1, c11);
      FloatVector a2 = FloatVector.broadcast(SPECIES, ap[ai + 2]);
      c20 = a2.fma(b0, c20);
      c21 = a2.fma(b1, c21);
      FloatVector a3 = FloatVector.broadcast(SPECIES, ap[ai + 3]);
      c30 = a3.fma(b0, c30);
      c31 = a3.fma(b1, c31);
      FloatVector a4 = FloatVector.broadcast(SPECIES, ap[ai + 4]);
      c40 = a4.fma(b0, c40);
      c41 = a4.fma(b1, c41);
      FloatVector a5 = FloatVector.broadcast(SPECIES, ap[ai + 5]);
      c50 = a5.fma(b0, c50);
      c51 = a5.fma(b1, c51);
      FloatVector a6 = FloatVector.broadcast(SPECIES, ap[ai + 6]);
      c60 = a6.fma(b0, c60);
      c61 = a6.fma(b1, c61);
      FloatVector a7 = FloatVector.broadcast(SPECIES, ap[ai + 7]);
      c70 = a7.fma(b0, c70);
      c71 = a7.fma(b1, c71);
      ai += MR;
    }
    int row = cIndex;
    c00.intoArray(c, row); c01.intoArray(c, row + V); row += ldc;
    c10.intoArray(c, row); c11.intoArray(c, row + V); row += ldc;
    c20.intoArray(c, row); c21.intoArray(c, row + V); row += ldc;
    c30.intoArray(c, row); c31.intoArray(c, row + V); row += ldc;
    c40.intoArray(c, row); c41.intoArray(c, row + V); row += ldc;
    c50.intoArray(c, row); c51.intoArray(c, row + V); row += ldc;
    c60.intoArray(c, row); c61.intoArray(c, row + V); row += ldc;
    c70.intoArray(c, row); c71.intoArray(c, row + V);
  }

  /**
   * The scalar twin of {@link #tile}: the same products, each element's sum in k order and in
   * double, as the reference GEMM sums (so the "Vector API off" run stays the accurate oracle).
   */
  private static void tileScalar(
      int kc, float[] ap, int aIndex, float[] b, int[] offsets, int bBase, float[] c, int cIndex, int ldc) {
    for (int i = 0; i < MR; i++) {
      for (int j = 0; j < NR; j++) {
        double sum = 0;
        for (int k = 0; k < kc; k++) {
          sum += (double) ap[aIndex + k * MR + i] * b[bBase + offsets[k] + j];
        }
        c[cIndex + i * ldc + j] = (float) sum;
      }
    }
  }

  /**
   * out (channels, oh, ow) at {@code outOff} = act(grid + b) for the grid's live columns, b per
   * channel (may be null).
   */
  static void store(
      int channels, int oh, int ow, Padded p, float[] grid, int gridOff, MemorySegment b,
      FusedActivation act, MemorySegment out, long outOff) {
    boolean relu = act == FusedActivation.RELU;
    boolean vector = KernelSwitch.vector();
    long limit = out.byteSize() / Float.BYTES;
    int ld = p.paddedColumns();
    FloatVector zero = FloatVector.zero(SPECIES);
    for (int o = 0; o < channels; o++) {
      float bias = b == null ? 0f : b.getAtIndex(F32, o);
      FloatVector bv = FloatVector.broadcast(SPECIES, bias);
      for (int r = 0; r < oh; r++) {
        int from = gridOff + o * ld + r * p.rowStride();
        long to = outOff + ((long) o * oh + r) * ow;
        int j = 0;
        if (vector) {
          for (; j + V <= ow; j += V) {
            FloatVector v = FloatVector.fromArray(SPECIES, grid, from + j).add(bv);
            (relu ? v.max(zero) : v).intoMemorySegment(out, (to + j) * Float.BYTES, ORDER);
          }
          if (j < ow && to + j + V <= limit) {
            // Masked on both sides: the last row of the last channel may end the grid array.
            VectorMask<Float> m = SPECIES.indexInRange(j, ow);
            FloatVector v = FloatVector.fromArray(SPECIES, grid, from + j, m).add(bv);
            (relu ? v.max(zero) : v).intoMemorySegment(out, (to + j) * Float.BYTES, ORDER, m);
            j = ow;
          }
        }
        for (; j < ow; j++) {
          out.setAtIndex(F32, to + j, act.apply(grid[from + j] + bias));
        }
      }
    }
  }

  /** {@link #store} with the int8 epilogue of {@code io}: {@code act(fma(acc, m[o], b[o]) [+ r])}. */
  private static void storeRescaled(
      int channels, int oh, int ow, Padded p, float[] grid, int gridOff, Int8Io io, MemorySegment out, long outOff) {
    boolean vector = KernelSwitch.vector();
    boolean relu = io.relu();
    MemorySegment res = io.residual();
    long limit = out.byteSize() / Float.BYTES;
    int ld = p.paddedColumns();
    for (int o = 0; o < channels; o++) {
      float m = io.multipliers()[o];
      float bias = io.bias() == null ? 0f : io.bias()[o];
      FloatVector mv = FloatVector.broadcast(SPECIES, m);
      FloatVector bv = FloatVector.broadcast(SPECIES, bias);
      for (int r = 0; r < oh; r++) {
        int from = gridOff + o * ld + r * p.rowStride();
        long to = outOff + ((long) o * oh + r) * ow;
        int j = 0;
        if (vector) {
          for (; j + V <= ow; j += V) {
            FloatVector v = FloatVector.fromArray(SPECIES, grid, from + j).fma(mv, bv);
            if (res != null) {
              v = v.add(FloatVector.fromMemorySegment(SPECIES, res, (to + j) * Float.BYTES, ORDER));
            }
            (relu ? v.max(0f) : v).intoMemorySegment(out, (to + j) * Float.BYTES, ORDER);
          }
          if (j < ow && to + j + V <= limit && (res == null || to + j + V <= res.byteSize() / Float.BYTES)) {
            VectorMask<Float> mask = SPECIES.indexInRange(j, ow);
            FloatVector v = FloatVector.fromArray(SPECIES, grid, from + j, mask).fma(mv, bv);
            if (res != null) {
              v = v.add(FloatVector.fromMemorySegment(SPECIES, res, (to + j) * Float.BYTES, ORDER, mask));
            }
            (relu ? v.max(0f) : v).intoMemorySegment(out, (to + j) * Float.BYTES, ORDER, mask);
            j = ow;
          }
        }
        for (; j < ow; j++) {
          float v = Math.fma(grid[from + j], m, bias);
          if (res != null) {
            v += res.getAtIndex(F32, to + j);
          }
          out.setAtIndex(F32, to + j, relu ? Math.max(v, 0f) : v);
        }
      }
    }
  }

  /**
   * dW[o][k] (+)= sum over {@code images} images and {@code columns} grid columns of dz[o][j] *
   * xpad[image * imageFloats + offsets[k] + j]: 4 x 4 register blocks of lane-wise partial sums,
   * lanes added in lane order at the end, so the result does not depend on JIT state. A last
   * block of fewer than four channels or taps repeats its last row or tap (computed and
   * dropped), so one kernel covers every shape; the scalar twin sums in double.
   */
  static void weightGradient(
      ConvGeometry g, Padded p, int images, int imageFloats, float[] dz, int ldz, int columns,
      float[] xpad, float[] lanes, MemorySegment dw, boolean accumulate) {
    int oc = g.outChannels();
    int r = g.colRows();
    int[] offsets = p.offsets();
    if (!KernelSwitch.vector()) {
      for (int o = 0; o < oc; o++) {
        for (int k = 0; k < r; k++) {
          add(dw, (long) o * r + k, dotScalar(images, columns, imageFloats, dz, o * ldz, xpad, offsets[k]),
              accumulate);
        }
      }
      return;
    }
    float[] sums = Workspace.current().sums();
    for (int o = 0; o < oc; o += DOT_BLOCK) {
      int rows = Math.min(DOT_BLOCK, oc - o);
      for (int k = 0; k < r; k += DOT_BLOCK) {
        int taps = Math.min(DOT_BLOCK, r - k);
        dot4x4(images, columns, imageFloats, dz, o * ldz, ldz * Math.min(1, rows - 1),
            ldz * Math.min(2, rows - 1), ldz * Math.min(3, rows - 1), xpad, offsets[k],
            offsets[k + Math.min(1, taps - 1)], offsets[k + Math.min(2, taps - 1)],
            offsets[k + Math.min(3, taps - 1)], lanes, sums);
        for (int i = 0; i < rows; i++) {
          for (int t = 0; t < taps; t++) {
            add(dw, (long) (o + i) * r + k + t, sums[i * DOT_BLOCK + t], accumulate);
          }
        }
      }
    }
  }

  private static void add(MemorySegment dw, long at, float value, boolean accumulate) {
    dw.setAtIndex(F32, at, accumulate ? dw.getAtIndex(F32, at) + value : value);
  }

  /**
   * Sums of four dz rows (at {@code dzOff}, {@code dzOff + row1}, {@code + row2}, {@code +
   * row3}) times four xpad runs, into {@code out[4*i + t]}.
   *
   * <p>One flat loop over the group's {@code images * columns} positions (dz rows of one group
   * are contiguous across images, {@code columns} apart; the xpad run jumps to the next image
   * after every {@code columns} floats), so the accumulators are plain loop phis as in the
   * forward tile. No vector leaves this method: the sixteen sums are parked with vector stores
   * and their lanes added by {@link #sumLanes(float[], float[], int)}. When they were passed to a
   * per-vector helper instead, C2 sometimes ran out of its inlining node budget before the last
   * calls ({@code NodeCountInliningCutoff}, depending on the profile it compiled with), the
   * vectors passed to them had to be boxed, and C2 boxed those accumulators at every FMA of the
   * loop: a float[] and a vector object per FMA, the 5-7x slower convolution backward pass of
   * about half of all JVM runs.
   */
  private static void dot4x4(
      int images, int columns, int imageFloats, float[] dz, int dzOff, int row1, int row2, int row3,
      float[] xpad, int x0, int x1, int x2, int x3, float[] lanes, float[] out) {
    FloatVector s00 = FloatVector.zero(SPECIES); FloatVector s01 = FloatVector.zero(SPECIES);
    FloatVector s02 = FloatVector.zero(SPECIES); FloatVector s03 = FloatVector.zero(SPECIES);
    FloatVector s10 = FloatVector.zero(SPECIES); FloatVector s11 = FloatVector.zero(SPECIES);
    FloatVector s12 = FloatVector.zero(SPECIES); FloatVector s13 = FloatVector.zero(SPECIES);
    FloatVector s20 = FloatVector.zero(SPECIES); FloatVector s21 = FloatVector.zero(SPECIES);
    FloatVector s22 = FloatVector.zero(SPECIES); FloatVector s23 = FloatVector.zero(SPECIES);
    FloatVector s30 = FloatVector.zero(SPECIES); FloatVector s31 = FloatVector.zero(SPECIES);
    FloatVector s32 = FloatVector.zero(SPECIES); FloatVector s33 = FloatVector.zero(SPECIES);
    int end = dzOff + images * columns;
    int imageJump = imageFloats - columns;
    int j = 0;
    int xb = 0;
    for (int d = dzOff; d < end; d += V) {
      FloatVector a0 = FloatVector.fromArray(SPECIES, dz, d);
      FloatVector a1 = FloatVector.fromArray(SPECIES, dz, d + row1);
      FloatVector a2 = FloatVector.fromArray(SPECIES, dz, d + row2);
      FloatVector a3 = FloatVector.fromArray(SPECIES, dz, d + row3);
      FloatVector b0 = FloatVector.fromArray(SPECIES, xpad, xb + x0);
      s00 = a0.fma(b0, s00); s10 = a1.fma(b0, s10); s20 = a2.fma(b0, s20); s30 = a3.fma(b0, s30);
      FloatVector b1 = FloatVector.fromArray(SPECIES, xpad, xb + x1);
      s01 = a0.fma(b1, s01); s11 = a1.fma(b1, s11); s21 = a2.fma(b1, s21); s31 = a3.fma(b1, s31);
      FloatVector b2 = FloatVector.fromArray(SPECIES, xpad, xb + x2);
      s02 = a0.fma(b2, s02); s12 = a1.fma(b2, s12); s22 = a2.fma(b2, s22); s32 = a3.fma(b2, s32);
      FloatVector b3 = FloatVector.fromArray(SPECIES, xpad, xb + x3);
      s03 = a0.fma(b3, s03); s13 = a1.fma(b3, s13); s23 = a2.fma(b3, s23); s33 = a3.fma(b3, s33);
      xb += V;
      j += V;
      if (j == columns) {
        j = 0;
        xb += imageJump;
      }
    }
    // Parked with plain vector stores and reduced by sumLanes on the array: a vector passed to a
    // method C2 does not inline is boxed, and C2 then boxes it at every FMA of the loop.
    s00.intoArray(lanes, 0); s01.intoArray(lanes, V); s02.intoArray(lanes, 2 * V); s03.intoArray(lanes, 3 * V);
    s10.intoArray(lanes, 4 * V); s11.intoArray(lanes, 5 * V); s12.intoArray(lanes, 6 * V); s13.intoArray(lanes, 7 * V);
    s20.intoArray(lanes, 8 * V); s21.intoArray(lanes, 9 * V); s22.intoArray(lanes, 10 * V); s23.intoArray(lanes, 11 * V);
    s30.intoArray(lanes, 12 * V); s31.intoArray(lanes, 13 * V); s32.intoArray(lanes, 14 * V); s33.intoArray(lanes, 15 * V);
    sumLanes(lanes, out, DOT_BLOCK * DOT_BLOCK);
  }

  /** One dz row times one xpad run over the group, in double as the reference GEMM sums (Vector API off). */
  private static float dotScalar(
      int images, int columns, int imageFloats, float[] dz, int dzOff, float[] xpad, int xOff) {
    double s = 0;
    for (int img = 0; img < images; img++) {
      int d = dzOff + img * columns;
      int xb = img * imageFloats + xOff;
      for (int j = 0; j < columns; j++) {
        s += (double) dz[d + j] * xpad[xb + j];
      }
    }
    return (float) s;
  }

  /** {@code out[i]} = the {@code V} lanes parked at {@code lanes[i * V]}, added in lane order. */
  private static void sumLanes(float[] lanes, float[] out, int count) {
    for (int i = 0; i < count; i++) {
      float s = 0f;
      for (int l = 0; l < V; l++) {
        s += lanes[i * V + l];
      }
      out[i] = s;
    }
  }

  static int roundUp(int x, int unit) {
    return (x + unit - 1) / unit * unit;
  }

  /**
   * One thread's buffers. The padded buffers must hold zeros wherever the layout has no data; they
   * are cleared whenever the layout they were last cleared for changes (a different layer), and
   * otherwise only their data positions are overwritten.
   */
  static final class Workspace {
    private static final ThreadLocal<Workspace> PER_THREAD = ThreadLocal.withInitial(Workspace::new);

    private float[] padded = new float[0];
    private float[] dz = new float[0];
    private float[] dzPadded = new float[0];
    private float[] grid = new float[0];
    /** The parked accumulators of one {@link #dot4x4} block. */
    private final float[] lanes = new float[DOT_BLOCK * DOT_BLOCK * V];
    private final float[] sums = new float[DOT_BLOCK * DOT_BLOCK];
    /** The geometry whose layouts the zeros of the padded and dz buffers were laid for. */
    private ConvGeometry layoutFor;

    static Workspace current() {
      return PER_THREAD.get();
    }

    float[] padded(long floats) {
      if (padded.length < floats) {
        padded = new float[Math.toIntExact(floats)];
      }
      return padded;
    }

    float[] dz(long floats) {
      if (dz.length < floats) {
        dz = new float[Math.toIntExact(floats)];
      }
      return dz;
    }

    float[] dzPadded(long floats) {
      if (dzPadded.length < floats) {
        dzPadded = new float[Math.toIntExact(floats)];
      }
      return dzPadded;
    }

    float[] grid(long floats) {
      if (grid.length < floats) {
        grid = new float[Math.toIntExact(floats)];
      }
      return grid;
    }

    float[] lanes() {
      return lanes;
    }

    float[] sums() {
      return sums;
    }

    /**
     * Makes sure every buffer holds zeros wherever the layouts of {@code g} have no data, clearing
     * them when they were last laid out for another geometry (or are new, hence zero already).
     */
    void claim(ConvGeometry g) {
      if (!g.equals(layoutFor)) {
        Arrays.fill(padded, 0f);
        Arrays.fill(dz, 0f);
        Arrays.fill(dzPadded, 0f);
        layoutFor = g;
      }
    }
  }
}
