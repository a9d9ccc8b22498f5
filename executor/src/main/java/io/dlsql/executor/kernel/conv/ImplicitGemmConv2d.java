package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import io.dlsql.executor.kernel.gemm.Transpose;
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
 *   <li>weight gradient: {@code dW[oc][tap] = sum over output positions q of dz[oc][q] *
 *       xpad[offset(tap) + pos(q)]}, with dz transposed to positions x output channels so the
 *       output channels run along the vector lanes: a register tile of channel vectors by taps
 *       broadcasts one input value per tap and position, visits only real output positions (not
 *       the grid's extra columns) and needs no lane reductions.
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
  /**
   * Floats of transposed output gradient (positions x output channels) one weight-gradient group
   * holds: with the group's padded images it stays in L2 while every register tile streams it.
   */
  static final int TARGET_GROUP_GRADIENT_FLOATS = 64 * 1024;
  /** Upper bound on stacks per weight-gradient group, so tiny maps do not make huge buffers. */
  static final int MAX_GROUP_UNITS = 64;
  /**
   * Output-channel vectors from which the weight gradient puts output channels along the lanes.
   * With one vector (16 channels) every FMA needs its own broadcast input value and the tile ran
   * at 60 GFLOP/s against 70 for the grid-column kernel, so those layers keep the latter.
   */
  static final int CHANNELS_IN_LANES_MIN_VECTORS = 2;
  /**
   * Taps (C x KH x KW) from which the weight gradient puts output channels along the lanes: the
   * transpose of dz costs the same per position whatever the taps, so with few taps (a first
   * layer's 25) it outweighs the gain (convnet conv1: 31 GFLOP/s against 41).
   */
  static final int CHANNELS_IN_LANES_MIN_TAPS = 64;
  /** Output positions per register tile of {@link #gemmByChannels} (by 4 channel vectors: 24 accumulators). */
  private static final int POSITIONS_BY_CHANNELS = 6;
  /** Output channel vectors per register tile of {@link #gemmByChannels}. */
  static final int VECTORS_BY_CHANNELS = 4;
  /** Output channels and taps per grid-column weight-gradient register block (16 accumulators). */
  private static final int DOT_BLOCK = 4;
  /**
   * Grid columns the grid-column weight gradient sums before adding its lanes into dW: long
   * enough that the lane sums are a small share of the work, short enough that a group's padded
   * images stay in L2.
   */
  static final int TARGET_GROUP_COLUMNS = 8192;
  /** Taps per weight-gradient register tile, by output-channel vectors per tile (24 accumulators). */
  private static final int TAPS_4 = 6;
  private static final int TAPS_2 = 12;
  private static final int TAPS_1 = 24;
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

  /**
   * Whether the forward GEMM of {@code g} runs with output channels along the lanes ({@link
   * #gemmByChannels}): stride 1, output channels a whole number of 4-vector tiles, and maps small
   * enough to be stacked, where the grid's extra columns and rows are a fifth or more of it
   * (7 x 7: 512 grid columns for 392 outputs) and only real output positions are worth computing.
   */
  static boolean forwardByChannels(ConvGeometry g) {
    return supports(g) && g.outChannels() % (VECTORS_BY_CHANNELS * V) == 0 && stack(g) > 1;
  }

  /** Whether the input gradient of {@code g} (the forward of {@link #transposed}) runs by channels. */
  static boolean inputGradientByChannels(ConvGeometry g) {
    return supports(g) && g.inChannels() % (VECTORS_BY_CHANNELS * V) == 0 && stack(g) > 1;
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
   * Packs w (OC, R) for the forward GEMM: into slivers of {@value #MR} output channels (sliver s
   * holds, for each tap r, the weights of channels {@code 8s .. 8s+7}, zeros past OC, so the tile
   * reads them in order), or tap-major ({@code dst[k * OC + o]}) when {@link #forwardByChannels}.
   */
  public static void packWeights(ConvGeometry g, MemorySegment w, float[] dst) {
    int r = g.colRows();
    if (forwardByChannels(g)) {
      int oc = g.outChannels();
      for (int o = 0; o < oc; o++) {
        for (int k = 0; k < r; k++) {
          dst[k * oc + o] = w.getAtIndex(F32, (long) o * r + k);
        }
      }
      return;
    }
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
   * {@code W'[c][oc][kh][kw] = W[oc][c][KH-1-kh][KW-1-kw]} (tap-major when {@link
   * #inputGradientByChannels}).
   */
  public static void packTransposedWeights(ConvGeometry g, MemorySegment w, float[] dst) {
    int kh = g.kernelH();
    int kw = g.kernelW();
    int taps = kh * kw;
    int oc = g.outChannels();
    int c = g.inChannels();
    int r = oc * taps;
    if (inputGradientByChannels(g)) {
      for (int o = 0; o < oc; o++) {
        for (int t = 0; t < taps; t++) {
          int k = o * taps + t;
          for (int i = 0; i < c; i++) {
            dst[k * c + i] = w.getAtIndex(F32, ((long) o * c + i) * taps + taps - 1 - t);
          }
        }
      }
      return;
    }
    int rows = paddedRows(c);
    for (int s = 0; s < rows; s += MR) {
      for (int o = 0; o < oc; o++) {
        for (int t = 0; t < taps; t++) {
          int flipped = taps - 1 - t;
          int k = o * taps + t;
          for (int i = 0; i < MR; i++) {
            int ci = s + i;
            dst[s * r + k * MR + i] = ci < c ? w.getAtIndex(F32, ((long) o * c + ci) * taps + flipped) : 0f;
          }
        }
      }
    }
  }

  /**
   * Stacks (units of {@link #stack} images) per weight-gradient group: as many as keep the group's
   * transposed output gradient near {@link #TARGET_GROUP_GRADIENT_FLOATS}, or its grid near
   * {@link #TARGET_GROUP_COLUMNS} columns (grid-column kernel).
   */
  static int groupUnits(ConvGeometry single) {
    if (!channelsInLanes(single)) {
      int columns = roundUp(Padded.of(stacked(single, stack(single))).gridColumns(), V);
      return Math.clamp(TARGET_GROUP_COLUMNS / columns, 1, MAX_GROUP_UNITS);
    }
    long perUnit = (long) stack(single) * single.outHeight() * single.outWidth() * roundUp(single.outChannels(), V);
    return (int) Math.clamp(TARGET_GROUP_GRADIENT_FLOATS / perUnit, 1, MAX_GROUP_UNITS);
  }

  /** Whether the weight gradient of {@code g} runs with output channels along the lanes. */
  static boolean channelsInLanes(ConvGeometry g) {
    return roundUp(g.outChannels(), V) >= CHANNELS_IN_LANES_MIN_VECTORS * V
        && g.colRows() >= CHANNELS_IN_LANES_MIN_TAPS;
  }

  /** Rows of the transposed weight gradient: one per tap, and spare rows for a tile's unused taps. */
  static int transposedGradientRows(ConvGeometry g) {
    return g.colRows() + TAPS_1;
  }

  /** Floats of per-thread scratch this algorithm holds for {@code g} (forward and backward). */
  public static long workspaceSize(ConvGeometry single) {
    int stack = stack(single);
    ConvGeometry g = stacked(single, stack);
    Padded p = Padded.of(g);
    Padded t = Padded.of(transposed(g));
    int group = groupUnits(single);
    int ocp = roundUp(g.outChannels(), V);
    long positions = (long) group * stack * single.outHeight() * single.outWidth();
    long padded = (long) group * p.imageFloats(g.inChannels());
    long dzT = channelsInLanes(single) ? positions * ocp
        : (long) g.outChannels() * group * roundUp(p.gridColumns(), V);
    long dwT = (long) transposedGradientRows(g) * ocp;
    long dzPadded = t.imageFloats(g.outChannels());
    long grid = Math.max((long) paddedRows(g.outChannels()) * p.paddedColumns(),
        (long) paddedRows(g.inChannels()) * t.paddedColumns());
    // The position tables hold ints, as many bytes as floats.
    long columns = (long) stack
        * Math.max(single.outHeight() * single.outWidth(), single.inHeight() * single.inWidth());
    return padded + dzT + positions + columns + dwT + dzPadded + grid;
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
    boolean byChannels = forwardByChannels(single);
    int[] columns = ws.gridColumns(stack * single.outHeight() * single.outWidth());
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
      if (byChannels) {
        int n = outputColumns(images, single.outHeight(), single.outWidth(), rowStep, p.rowStride(), columns);
        gemmByChannels(g.outChannels(), g.colRows(), p, packed, xpad, columns, n, grid, ws.lanes());
      } else {
        gemm(paddedRows(g.outChannels()), g.colRows(), p, packed, xpad, 0, grid);
      }
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
    int group = groupUnits(single);
    int oc = g.outChannels();
    int ocp = roundUp(oc, V);
    int c = g.inChannels();
    int r = g.colRows();
    int imageFloats = p.imageFloats(c);
    int imagePositions = single.outHeight() * single.outWidth();
    Workspace ws = Workspace.current();
    float[] xpad = ws.padded((long) group * imageFloats);
    boolean lanesOverChannels = channelsInLanes(single);
    int dzColumns = roundUp(p.gridColumns(), V);
    // Transposed (positions x ocp) for the channels-in-lanes kernel, on the grid (oc x columns of
    // every unit) for the grid-column one.
    float[] dzT = ws.dzT(lanesOverChannels ? (long) group * stack * imagePositions * ocp
        : (long) oc * group * dzColumns);
    int[] pos = ws.positions(group * stack * imagePositions);
    float[] dwT = ws.dwT((long) transposedGradientRows(g) * ocp);
    double[] dbSums = ws.biasSums(oc);
    float[] dzPadded = ws.dzPadded(pt.imageFloats(oc));
    float[] grid = ws.grid(Math.max((long) paddedRows(oc) * p.paddedColumns(),
        (long) paddedRows(c) * pt.paddedColumns()));
    boolean dxByChannels = inputGradientByChannels(single);
    int[] dxColumns = ws.gridColumns(stack * single.inHeight() * single.inWidth());
    ws.claim(g);
    Arrays.fill(dwT, 0, transposedGradientRows(g) * ocp, 0f);
    Arrays.fill(dbSums, 0, oc, 0);
    int perGroup = group * stack;
    for (int first = 0; first < count; first += perGroup) {
      int units = Math.ceilDiv(Math.min(perGroup, count - first), stack);
      int positions = 0;
      for (int u = 0; u < units; u++) {
        int firstImage = first + u * stack;
        int images = Math.min(stack, count - firstImage);
        if (images < stack) {
          // The empty slots of a short stack must add nothing: clear their dz (grid) and dy rows.
          if (!lanesOverChannels) {
            for (int o = 0; o < oc; o++) {
              int row = o * group * dzColumns + u * dzColumns;
              Arrays.fill(dzT, row, row + dzColumns, 0f);
            }
          }
          Arrays.fill(dzPadded, 0f);
        }
        for (int i = 0; i < images; i++) {
          int img = firstImage + i;
          long yAt = yOff + img * single.outputSize();
          long dyAt = dyOff + img * single.outputSize();
          int at = u * imageFloats + i * rowStep;
          pad(c, single.inHeight(), g.inWidth(), g.padTop(), p, x, xOff + img * single.inputSize(), null, 0,
              FusedActivation.IDENTITY, xpad, at);
          if (lanesOverChannels) {
            positions = transposeMasked(oc, ocp, single.outHeight(), g.outWidth(), p.rowStride(), act, y, yAt, dy,
                dyAt, dzT, pos, positions, at, db == null ? null : dbSums, ws.lane());
          } else {
            maskToGrid(oc, single.outHeight(), g.outWidth(), p.rowStride(), act, y, yAt, dy, dyAt, dzT,
                group * dzColumns, u * dzColumns + i * rowStep);
          }
          if (dx != null) {
            pad(oc, single.outHeight(), g.outWidth(), t.padTop(), pt, dy, dyAt, y, yAt, act, dzPadded,
                i * transposedRowStep);
          }
        }
        if (dx != null) {
          if (dxByChannels) {
            int n = outputColumns(images, single.inHeight(), single.inWidth(), transposedRowStep, pt.rowStride(),
                dxColumns);
            gemmByChannels(c, t.colRows(), pt, packedTransposed, dzPadded, dxColumns, n, grid, ws.lanes());
          } else {
            gemm(paddedRows(c), t.colRows(), pt, packedTransposed, dzPadded, 0, grid);
          }
          for (int i = 0; i < images; i++) {
            store(c, single.inHeight(), g.inWidth(), pt, grid, i * transposedRowStep, null,
                FusedActivation.IDENTITY, dx, dxOff + (firstImage + i) * single.inputSize());
          }
        }
      }
      if (lanesOverChannels) {
        weightGradientByChannels(r, ocp, positions, pos, xpad, p.offsets(), dzT, dwT);
      } else {
        weightGradient(g, p, units, imageFloats, dzT, group * dzColumns, dzColumns, xpad, ws.lanes(), dw,
            accumulate || first > 0);
        if (db != null) {
          sumRows(oc, units * dzColumns, dzT, group * dzColumns, dbSums, ws.lane());
        }
      }
    }
    for (int o = 0; o < oc; o++) {
      if (lanesOverChannels) {
        for (int k = 0; k < r; k++) {
          add(dw, (long) o * r + k, dwT[k * ocp + o], accumulate);
        }
      }
      if (db != null) {
        add(db, o, (float) dbSums[o], accumulate);
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
   * Appends one image's output positions to the weight gradient's operands: {@code dzT[(q + j) *
   * ocp + o] = dy[o][j] * act'(y[o][j])} for position j (row-major over (oh, ow)) from {@code q =
   * positions}, zeros in channels {@code oc .. ocp-1}; {@code pos[q + j]} = where j's input
   * window starts in the padded buffer, {@code at + oh * rowStride + ow}; {@code sums[o]} += the
   * masked gradients (the bias gradient) when {@code sums} is not null. Whole 16 x 16 blocks go
   * through {@link Transpose}, the last positions one channel at a time. Returns the new position count.
   */
  private static int transposeMasked(
      int oc, int ocp, int oh, int ow, int rowStride, FusedActivation act, MemorySegment y, long yOff,
      MemorySegment dy, long dyOff, float[] dzT, int[] pos, int positions, int at, double[] sums, float[] lane) {
    boolean masked = act != FusedActivation.IDENTITY;
    boolean vector = KernelSwitch.vector();
    int count = oh * ow;
    for (int r = 0, q = positions; r < oh; r++) {
      for (int j = 0; j < ow; j++, q++) {
        pos[q] = at + r * rowStride + j;
      }
    }
    long rowBytes = (long) count * Float.BYTES;
    int blocked = 0;
    if (vector && Transpose.AVAILABLE && V == Transpose.LANES) {
      blocked = count / V * V;
      MemorySegment src = dy;
      long srcOff = dyOff;
      if (masked) {
        // Masked into a contiguous copy first: masking inside the transpose made it too large
        // for C2 to inline its permutes, and then it boxed every vector.
        Workspace ws = Workspace.current();
        float[] copy = ws.maskedImage(oc * count);
        maskInto(oc * count, y, yOff, dy, dyOff, copy);
        src = ws.maskedImageSegment();
        srcOff = 0;
      }
      for (int ob = 0; ob < oc; ob += V) {
        int live = Math.min(V, oc - ob);
        for (int j = 0; j < blocked; j += V) {
          // The block's rows past oc come out zero: the padded channels of dzT.
          Transpose.rows16x16(src, (srcOff + (long) ob * count + j) * Float.BYTES, rowBytes, live, dzT,
              (positions + j) * ocp + ob, ocp);
        }
      }
    }
    long limit = dy.byteSize() / Float.BYTES;
    for (int o = 0; o < oc; o++) {
      long from = o * (long) count;
      int j = blocked;
      int d = (positions + j) * ocp + o;
      if (vector) {
        // A vector at a time (a scalar segment read costs several float[] ones), parked in a
        // small array and stored down the column of dzT.
        for (; j + V <= count && dyOff + from + j + V <= limit; j += V) {
          FloatVector v = FloatVector.fromMemorySegment(SPECIES, dy, (dyOff + from + j) * Float.BYTES, ORDER);
          if (masked) {
            v = FloatVector.zero(SPECIES).blend(v,
                FloatVector.fromMemorySegment(SPECIES, y, (yOff + from + j) * Float.BYTES, ORDER)
                    .compare(VectorOperators.GT, 0f));
          }
          v.intoArray(lane, 0);
          for (int l = 0; l < V; l++, d += ocp) {
            dzT[d] = lane[l];
          }
        }
      }
      for (; j < count; j++, d += ocp) {
        float v = dy.getAtIndex(F32, dyOff + from + j);
        dzT[d] = masked && !(y.getAtIndex(F32, yOff + from + j) > 0f) ? 0f : v;
      }
    }
    for (int o = oc; o < ocp; o++) {
      for (int j = blocked, d = (positions + j) * ocp + o; j < count; j++, d += ocp) {
        dzT[d] = 0f;
      }
    }
    int end = positions + count;
    if (sums == null) {
      return end;
    }
    if (vector) {
      // Per image in float lanes, then into the double sums.
      for (int ob = 0; ob < oc; ob += V) {
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int q = positions; q < end; q++) {
          acc = acc.add(FloatVector.fromArray(SPECIES, dzT, q * ocp + ob));
        }
        acc.intoArray(lane, 0);
        for (int l = 0; l < Math.min(V, oc - ob); l++) {
          sums[ob + l] += lane[l];
        }
      }
    } else {
      for (int o = 0; o < oc; o++) {
        double sum = 0;
        for (int q = positions; q < end; q++) {
          sum += dzT[q * ocp + o];
        }
        sums[o] += sum;
      }
    }
    return end;
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
   * {@code sums[o] +=} the first {@code n} floats of row o of dz (rows {@code ld} apart, n a
   * multiple of the vector length in vector mode): float lanes per row, added into the double
   * sums in lane order (a double chain per float was as slow as the weight gradient of a layer
   * with one input channel).
   */
  private static void sumRows(int rows, int n, float[] dz, int ld, double[] sums, float[] lane) {
    boolean vector = KernelSwitch.vector();
    for (int o = 0; o < rows; o++) {
      int row = o * ld;
      if (vector) {
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int j = 0; j < n; j += V) {
          acc = acc.add(FloatVector.fromArray(SPECIES, dz, row + j));
        }
        acc.intoArray(lane, 0);
        for (int l = 0; l < V; l++) {
          sums[o] += lane[l];
        }
      } else {
        double sum = 0;
        for (int j = 0; j < n; j++) {
          sum += dz[row + j];
        }
        sums[o] += sum;
      }
    }
  }

  /** {@code out[i] = dy[i] * [y[i] > 0]} for {@code n} floats from the given offsets (vector loop, scalar tail). */
  private static void maskInto(int n, MemorySegment y, long yOff, MemorySegment dy, long dyOff, float[] out) {
    int i = 0;
    for (; i + V <= n; i += V) {
      FloatVector v = FloatVector.fromMemorySegment(SPECIES, dy, (dyOff + i) * Float.BYTES, ORDER);
      v = FloatVector.zero(SPECIES).blend(v,
          FloatVector.fromMemorySegment(SPECIES, y, (yOff + i) * Float.BYTES, ORDER).compare(VectorOperators.GT, 0f));
      v.intoArray(out, i);
    }
    for (; i < n; i++) {
      out[i] = y.getAtIndex(F32, yOff + i) > 0f ? dy.getAtIndex(F32, dyOff + i) : 0f;
    }
  }

  /**
   * Fills {@code columns} with the grid columns of the real output positions of {@code images}
   * stacked images ({@code i * rowStep + oh * rowStride + ow}) and returns how many.
   */
  static int outputColumns(int images, int oh, int ow, int rowStep, int rowStride, int[] columns) {
    int n = 0;
    for (int i = 0; i < images; i++) {
      for (int r = 0; r < oh; r++) {
        for (int j = 0; j < ow; j++) {
          columns[n++] = i * rowStep + r * rowStride + j;
        }
      }
    }
    return n;
  }

  /**
   * The grid's columns {@code columns[0 .. n-1]} of rows {@code 0 .. oc-1} = packed (tap-major, r
   * x oc) times B, B row k = {@code xpad[offsets[k] + j]}: output channels along the lanes, tiles
   * of {@value #POSITIONS_BY_CHANNELS} positions by {@value #VECTORS_BY_CHANNELS} channel vectors,
   * so only real output positions are computed (the grid's extra columns and rows are not written
   * and {@link #store} drops them). A last tile of fewer positions repeats its last one. The
   * scalar twin sums each element in double.
   */
  static void gemmByChannels(
      int oc, int r, Padded p, float[] packed, float[] xpad, int[] columns, int n, float[] grid, float[] lanes) {
    int ld = p.paddedColumns();
    int[] offsets = p.offsets();
    if (!KernelSwitch.vector()) {
      for (int q = 0; q < n; q++) {
        int j = columns[q];
        for (int o = 0; o < oc; o++) {
          double sum = 0;
          for (int k = 0; k < r; k++) {
            sum += (double) packed[k * oc + o] * xpad[offsets[k] + j];
          }
          grid[o * ld + j] = (float) sum;
        }
      }
      return;
    }
    for (int q = 0; q < n; q += POSITIONS_BY_CHANNELS) {
      int last = Math.min(n, q + POSITIONS_BY_CHANNELS) - 1;
      int j0 = columns[q];
      int j1 = columns[Math.min(q + 1, last)];
      int j2 = columns[Math.min(q + 2, last)];
      int j3 = columns[Math.min(q + 3, last)];
      int j4 = columns[Math.min(q + 4, last)];
      int j5 = columns[Math.min(q + 5, last)];
      for (int ob = 0; ob < oc; ob += VECTORS_BY_CHANNELS * V) {
        tileByChannels(r, offsets, packed, oc, ob, xpad, j0, j1, j2, j3, j4, j5, oc, grid, ld, lanes);
      }
    }
  }

  /**
   * One 6-position by 4-vector tile of {@link #gemmByChannels}: for k over the r taps, 4 vectors of
   * packed weights times 6 broadcast input values; written into the grid's columns {@code j0..j5}
   * (a repeated column is written twice with the same sums), rows {@code ob ..} below {@code oc}.
   */
  private static void tileByChannels(
      int r, int[] offsets, float[] packed, int ocp, int ob, float[] xpad, int j0, int j1, int j2, int j3, int j4,
      int j5, int oc, float[] grid, int ld, float[] lanes) {
    FloatVector c0_0 = FloatVector.zero(SPECIES); FloatVector c0_1 = FloatVector.zero(SPECIES);
    FloatVector c0_2 = FloatVector.zero(SPECIES); FloatVector c0_3 = FloatVector.zero(SPECIES);
    FloatVector c1_0 = FloatVector.zero(SPECIES); FloatVector c1_1 = FloatVector.zero(SPECIES);
    FloatVector c1_2 = FloatVector.zero(SPECIES); FloatVector c1_3 = FloatVector.zero(SPECIES);
    FloatVector c2_0 = FloatVector.zero(SPECIES); FloatVector c2_1 = FloatVector.zero(SPECIES);
    FloatVector c2_2 = FloatVector.zero(SPECIES); FloatVector c2_3 = FloatVector.zero(SPECIES);
    FloatVector c3_0 = FloatVector.zero(SPECIES); FloatVector c3_1 = FloatVector.zero(SPECIES);
    FloatVector c3_2 = FloatVector.zero(SPECIES); FloatVector c3_3 = FloatVector.zero(SPECIES);
    FloatVector c4_0 = FloatVector.zero(SPECIES); FloatVector c4_1 = FloatVector.zero(SPECIES);
    FloatVector c4_2 = FloatVector.zero(SPECIES); FloatVector c4_3 = FloatVector.zero(SPECIES);
    FloatVector c5_0 = FloatVector.zero(SPECIES); FloatVector c5_1 = FloatVector.zero(SPECIES);
    FloatVector c5_2 = FloatVector.zero(SPECIES); FloatVector c5_3 = FloatVector.zero(SPECIES);
    for (int k = 0, w = ob; k < r; k++, w += ocp) {
      int o = offsets[k];
      FloatVector b0 = FloatVector.fromArray(SPECIES, packed, w);
      FloatVector b1 = FloatVector.fromArray(SPECIES, packed, w + 1 * V);
      FloatVector b2 = FloatVector.fromArray(SPECIES, packed, w + 2 * V);
      FloatVector b3 = FloatVector.fromArray(SPECIES, packed, w + 3 * V);
      FloatVector a0 = FloatVector.broadcast(SPECIES, xpad[o + j0]);
      c0_0 = a0.fma(b0, c0_0); c0_1 = a0.fma(b1, c0_1); c0_2 = a0.fma(b2, c0_2); c0_3 = a0.fma(b3, c0_3);
      FloatVector a1 = FloatVector.broadcast(SPECIES, xpad[o + j1]);
      c1_0 = a1.fma(b0, c1_0); c1_1 = a1.fma(b1, c1_1); c1_2 = a1.fma(b2, c1_2); c1_3 = a1.fma(b3, c1_3);
      FloatVector a2 = FloatVector.broadcast(SPECIES, xpad[o + j2]);
      c2_0 = a2.fma(b0, c2_0); c2_1 = a2.fma(b1, c2_1); c2_2 = a2.fma(b2, c2_2); c2_3 = a2.fma(b3, c2_3);
      FloatVector a3 = FloatVector.broadcast(SPECIES, xpad[o + j3]);
      c3_0 = a3.fma(b0, c3_0); c3_1 = a3.fma(b1, c3_1); c3_2 = a3.fma(b2, c3_2); c3_3 = a3.fma(b3, c3_3);
      FloatVector a4 = FloatVector.broadcast(SPECIES, xpad[o + j4]);
      c4_0 = a4.fma(b0, c4_0); c4_1 = a4.fma(b1, c4_1); c4_2 = a4.fma(b2, c4_2); c4_3 = a4.fma(b3, c4_3);
      FloatVector a5 = FloatVector.broadcast(SPECIES, xpad[o + j5]);
      c5_0 = a5.fma(b0, c5_0); c5_1 = a5.fma(b1, c5_1); c5_2 = a5.fma(b2, c5_2); c5_3 = a5.fma(b3, c5_3);
    }
    // Parked and scattered down the grid's columns from the array: no vector leaves this method.
    c0_0.intoArray(lanes, 0); c0_1.intoArray(lanes, 1 * V);
    c0_2.intoArray(lanes, 2 * V); c0_3.intoArray(lanes, 3 * V);
    c1_0.intoArray(lanes, 4 * V); c1_1.intoArray(lanes, 5 * V);
    c1_2.intoArray(lanes, 6 * V); c1_3.intoArray(lanes, 7 * V);
    c2_0.intoArray(lanes, 8 * V); c2_1.intoArray(lanes, 9 * V);
    c2_2.intoArray(lanes, 10 * V); c2_3.intoArray(lanes, 11 * V);
    c3_0.intoArray(lanes, 12 * V); c3_1.intoArray(lanes, 13 * V);
    c3_2.intoArray(lanes, 14 * V); c3_3.intoArray(lanes, 15 * V);
    c4_0.intoArray(lanes, 16 * V); c4_1.intoArray(lanes, 17 * V);
    c4_2.intoArray(lanes, 18 * V); c4_3.intoArray(lanes, 19 * V);
    c5_0.intoArray(lanes, 20 * V); c5_1.intoArray(lanes, 21 * V);
    c5_2.intoArray(lanes, 22 * V); c5_3.intoArray(lanes, 23 * V);
    int rows = Math.min(4 * V, oc - ob);
    for (int row = 0; row < rows; row++) {
      int to = (ob + row) * ld;
      grid[to + j0] = lanes[0 * 4 * V + row];
      grid[to + j1] = lanes[1 * 4 * V + row];
      grid[to + j2] = lanes[2 * 4 * V + row];
      grid[to + j3] = lanes[3 * 4 * V + row];
      grid[to + j4] = lanes[4 * 4 * V + row];
      grid[to + j5] = lanes[5 * 4 * V + row];
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
   * dwT[k][o] += sum over {@code positions} positions q of xpad[offsets[k] + pos[q]] * dzT[q][o]:
   * the weight gradient with output channels along the vector lanes, so a register tile (one to
   * four channel vectors by 24 to 6 taps) sums over positions with plain FMAs and is added to dwT
   * once per group, with no lanes to add at the end, and only real output positions are visited
   * (none of the grid's extra columns). The scalar twin sums each element in double.
   */
  private static void weightGradientByChannels(
      int r, int ocp, int positions, int[] pos, float[] xpad, int[] offsets, float[] dzT, float[] dwT) {
    if (!KernelSwitch.vector()) {
      for (int k = 0; k < r; k++) {
        for (int o = 0; o < ocp; o++) {
          double sum = 0;
          for (int q = 0; q < positions; q++) {
            sum += (double) xpad[offsets[k] + pos[q]] * dzT[q * ocp + o];
          }
          dwT[k * ocp + o] += (float) sum;
        }
      }
      return;
    }
    for (int ob = 0; ob < ocp; ) {
      int vectors = ocp - ob >= 4 * V ? 4 : ocp - ob >= 2 * V ? 2 : 1;
      int step = vectors == 4 ? TAPS_4 : vectors == 2 ? TAPS_2 : TAPS_1;
      for (int k = 0; k < r; k += step) {
        int taps = Math.min(step, r - k);
        switch (vectors) {
          case 4 -> dwTile4x6(positions, pos, xpad, offsets, k, taps, dzT, ocp, ob, dwT);
          case 2 -> dwTile2x12(positions, pos, xpad, offsets, k, taps, dzT, ocp, ob, dwT);
          default -> dwTile1x24(positions, pos, xpad, offsets, k, taps, dzT, ocp, ob, dwT);
        }
      }
      ob += vectors * V;
    }
  }

  /** {@link #weightGradientByChannels} for 4 vectors of output channels by 6 taps. */
  private static void dwTile4x6(
      int positions, int[] pos, float[] xpad, int[] offsets, int k, int taps, float[] dzT, int ocp, int ob,
      float[] dwT) {
    int x0 = offsets[k];
    int x1 = offsets[k + Math.min(1, taps - 1)];
    int x2 = offsets[k + Math.min(2, taps - 1)];
    int x3 = offsets[k + Math.min(3, taps - 1)];
    int x4 = offsets[k + Math.min(4, taps - 1)];
    int x5 = offsets[k + Math.min(5, taps - 1)];
    FloatVector s0_0 = FloatVector.zero(SPECIES); FloatVector s0_1 = FloatVector.zero(SPECIES);
    FloatVector s0_2 = FloatVector.zero(SPECIES); FloatVector s0_3 = FloatVector.zero(SPECIES);
    FloatVector s1_0 = FloatVector.zero(SPECIES); FloatVector s1_1 = FloatVector.zero(SPECIES);
    FloatVector s1_2 = FloatVector.zero(SPECIES); FloatVector s1_3 = FloatVector.zero(SPECIES);
    FloatVector s2_0 = FloatVector.zero(SPECIES); FloatVector s2_1 = FloatVector.zero(SPECIES);
    FloatVector s2_2 = FloatVector.zero(SPECIES); FloatVector s2_3 = FloatVector.zero(SPECIES);
    FloatVector s3_0 = FloatVector.zero(SPECIES); FloatVector s3_1 = FloatVector.zero(SPECIES);
    FloatVector s3_2 = FloatVector.zero(SPECIES); FloatVector s3_3 = FloatVector.zero(SPECIES);
    FloatVector s4_0 = FloatVector.zero(SPECIES); FloatVector s4_1 = FloatVector.zero(SPECIES);
    FloatVector s4_2 = FloatVector.zero(SPECIES); FloatVector s4_3 = FloatVector.zero(SPECIES);
    FloatVector s5_0 = FloatVector.zero(SPECIES); FloatVector s5_1 = FloatVector.zero(SPECIES);
    FloatVector s5_2 = FloatVector.zero(SPECIES); FloatVector s5_3 = FloatVector.zero(SPECIES);
    for (int p = 0, d = ob; p < positions; p++, d += ocp) {
      int xi = pos[p];
      FloatVector b0 = FloatVector.fromArray(SPECIES, dzT, d);
      FloatVector b1 = FloatVector.fromArray(SPECIES, dzT, d + 1 * V);
      FloatVector b2 = FloatVector.fromArray(SPECIES, dzT, d + 2 * V);
      FloatVector b3 = FloatVector.fromArray(SPECIES, dzT, d + 3 * V);
      FloatVector a0 = FloatVector.broadcast(SPECIES, xpad[x0 + xi]);
      s0_0 = a0.fma(b0, s0_0); s0_1 = a0.fma(b1, s0_1); s0_2 = a0.fma(b2, s0_2); s0_3 = a0.fma(b3, s0_3);
      FloatVector a1 = FloatVector.broadcast(SPECIES, xpad[x1 + xi]);
      s1_0 = a1.fma(b0, s1_0); s1_1 = a1.fma(b1, s1_1); s1_2 = a1.fma(b2, s1_2); s1_3 = a1.fma(b3, s1_3);
      FloatVector a2 = FloatVector.broadcast(SPECIES, xpad[x2 + xi]);
      s2_0 = a2.fma(b0, s2_0); s2_1 = a2.fma(b1, s2_1); s2_2 = a2.fma(b2, s2_2); s2_3 = a2.fma(b3, s2_3);
      FloatVector a3 = FloatVector.broadcast(SPECIES, xpad[x3 + xi]);
      s3_0 = a3.fma(b0, s3_0); s3_1 = a3.fma(b1, s3_1); s3_2 = a3.fma(b2, s3_2); s3_3 = a3.fma(b3, s3_3);
      FloatVector a4 = FloatVector.broadcast(SPECIES, xpad[x4 + xi]);
      s4_0 = a4.fma(b0, s4_0); s4_1 = a4.fma(b1, s4_1); s4_2 = a4.fma(b2, s4_2); s4_3 = a4.fma(b3, s4_3);
      FloatVector a5 = FloatVector.broadcast(SPECIES, xpad[x5 + xi]);
      s5_0 = a5.fma(b0, s5_0); s5_1 = a5.fma(b1, s5_1); s5_2 = a5.fma(b2, s5_2); s5_3 = a5.fma(b3, s5_3);
    }
    // Taps past the last ran on a repeated offset; their sums go to the spare rows after K.
    int w0 = k * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w0).add(s0_0).intoArray(dwT, w0);
    FloatVector.fromArray(SPECIES, dwT, w0 + 1 * V).add(s0_1).intoArray(dwT, w0 + 1 * V);
    FloatVector.fromArray(SPECIES, dwT, w0 + 2 * V).add(s0_2).intoArray(dwT, w0 + 2 * V);
    FloatVector.fromArray(SPECIES, dwT, w0 + 3 * V).add(s0_3).intoArray(dwT, w0 + 3 * V);
    int w1 = (k + 1 + (1 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w1).add(s1_0).intoArray(dwT, w1);
    FloatVector.fromArray(SPECIES, dwT, w1 + 1 * V).add(s1_1).intoArray(dwT, w1 + 1 * V);
    FloatVector.fromArray(SPECIES, dwT, w1 + 2 * V).add(s1_2).intoArray(dwT, w1 + 2 * V);
    FloatVector.fromArray(SPECIES, dwT, w1 + 3 * V).add(s1_3).intoArray(dwT, w1 + 3 * V);
    int w2 = (k + 2 + (2 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w2).add(s2_0).intoArray(dwT, w2);
    FloatVector.fromArray(SPECIES, dwT, w2 + 1 * V).add(s2_1).intoArray(dwT, w2 + 1 * V);
    FloatVector.fromArray(SPECIES, dwT, w2 + 2 * V).add(s2_2).intoArray(dwT, w2 + 2 * V);
    FloatVector.fromArray(SPECIES, dwT, w2 + 3 * V).add(s2_3).intoArray(dwT, w2 + 3 * V);
    int w3 = (k + 3 + (3 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w3).add(s3_0).intoArray(dwT, w3);
    FloatVector.fromArray(SPECIES, dwT, w3 + 1 * V).add(s3_1).intoArray(dwT, w3 + 1 * V);
    FloatVector.fromArray(SPECIES, dwT, w3 + 2 * V).add(s3_2).intoArray(dwT, w3 + 2 * V);
    FloatVector.fromArray(SPECIES, dwT, w3 + 3 * V).add(s3_3).intoArray(dwT, w3 + 3 * V);
    int w4 = (k + 4 + (4 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w4).add(s4_0).intoArray(dwT, w4);
    FloatVector.fromArray(SPECIES, dwT, w4 + 1 * V).add(s4_1).intoArray(dwT, w4 + 1 * V);
    FloatVector.fromArray(SPECIES, dwT, w4 + 2 * V).add(s4_2).intoArray(dwT, w4 + 2 * V);
    FloatVector.fromArray(SPECIES, dwT, w4 + 3 * V).add(s4_3).intoArray(dwT, w4 + 3 * V);
    int w5 = (k + 5 + (5 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w5).add(s5_0).intoArray(dwT, w5);
    FloatVector.fromArray(SPECIES, dwT, w5 + 1 * V).add(s5_1).intoArray(dwT, w5 + 1 * V);
    FloatVector.fromArray(SPECIES, dwT, w5 + 2 * V).add(s5_2).intoArray(dwT, w5 + 2 * V);
    FloatVector.fromArray(SPECIES, dwT, w5 + 3 * V).add(s5_3).intoArray(dwT, w5 + 3 * V);
  }

  /** {@link #weightGradientByChannels} for 2 vectors of output channels by 12 taps. */
  private static void dwTile2x12(
      int positions, int[] pos, float[] xpad, int[] offsets, int k, int taps, float[] dzT, int ocp, int ob,
      float[] dwT) {
    int x0 = offsets[k];
    int x1 = offsets[k + Math.min(1, taps - 1)];
    int x2 = offsets[k + Math.min(2, taps - 1)];
    int x3 = offsets[k + Math.min(3, taps - 1)];
    int x4 = offsets[k + Math.min(4, taps - 1)];
    int x5 = offsets[k + Math.min(5, taps - 1)];
    int x6 = offsets[k + Math.min(6, taps - 1)];
    int x7 = offsets[k + Math.min(7, taps - 1)];
    int x8 = offsets[k + Math.min(8, taps - 1)];
    int x9 = offsets[k + Math.min(9, taps - 1)];
    int x10 = offsets[k + Math.min(10, taps - 1)];
    int x11 = offsets[k + Math.min(11, taps - 1)];
    FloatVector s0_0 = FloatVector.zero(SPECIES); FloatVector s0_1 = FloatVector.zero(SPECIES);
    FloatVector s1_0 = FloatVector.zero(SPECIES); FloatVector s1_1 = FloatVector.zero(SPECIES);
    FloatVector s2_0 = FloatVector.zero(SPECIES); FloatVector s2_1 = FloatVector.zero(SPECIES);
    FloatVector s3_0 = FloatVector.zero(SPECIES); FloatVector s3_1 = FloatVector.zero(SPECIES);
    FloatVector s4_0 = FloatVector.zero(SPECIES); FloatVector s4_1 = FloatVector.zero(SPECIES);
    FloatVector s5_0 = FloatVector.zero(SPECIES); FloatVector s5_1 = FloatVector.zero(SPECIES);
    FloatVector s6_0 = FloatVector.zero(SPECIES); FloatVector s6_1 = FloatVector.zero(SPECIES);
    FloatVector s7_0 = FloatVector.zero(SPECIES); FloatVector s7_1 = FloatVector.zero(SPECIES);
    FloatVector s8_0 = FloatVector.zero(SPECIES); FloatVector s8_1 = FloatVector.zero(SPECIES);
    FloatVector s9_0 = FloatVector.zero(SPECIES); FloatVector s9_1 = FloatVector.zero(SPECIES);
    FloatVector s10_0 = FloatVector.zero(SPECIES); FloatVector s10_1 = FloatVector.zero(SPECIES);
    FloatVector s11_0 = FloatVector.zero(SPECIES); FloatVector s11_1 = FloatVector.zero(SPECIES);
    for (int p = 0, d = ob; p < positions; p++, d += ocp) {
      int xi = pos[p];
      FloatVector b0 = FloatVector.fromArray(SPECIES, dzT, d);
      FloatVector b1 = FloatVector.fromArray(SPECIES, dzT, d + 1 * V);
      FloatVector a0 = FloatVector.broadcast(SPECIES, xpad[x0 + xi]);
      s0_0 = a0.fma(b0, s0_0); s0_1 = a0.fma(b1, s0_1);
      FloatVector a1 = FloatVector.broadcast(SPECIES, xpad[x1 + xi]);
      s1_0 = a1.fma(b0, s1_0); s1_1 = a1.fma(b1, s1_1);
      FloatVector a2 = FloatVector.broadcast(SPECIES, xpad[x2 + xi]);
      s2_0 = a2.fma(b0, s2_0); s2_1 = a2.fma(b1, s2_1);
      FloatVector a3 = FloatVector.broadcast(SPECIES, xpad[x3 + xi]);
      s3_0 = a3.fma(b0, s3_0); s3_1 = a3.fma(b1, s3_1);
      FloatVector a4 = FloatVector.broadcast(SPECIES, xpad[x4 + xi]);
      s4_0 = a4.fma(b0, s4_0); s4_1 = a4.fma(b1, s4_1);
      FloatVector a5 = FloatVector.broadcast(SPECIES, xpad[x5 + xi]);
      s5_0 = a5.fma(b0, s5_0); s5_1 = a5.fma(b1, s5_1);
      FloatVector a6 = FloatVector.broadcast(SPECIES, xpad[x6 + xi]);
      s6_0 = a6.fma(b0, s6_0); s6_1 = a6.fma(b1, s6_1);
      FloatVector a7 = FloatVector.broadcast(SPECIES, xpad[x7 + xi]);
      s7_0 = a7.fma(b0, s7_0); s7_1 = a7.fma(b1, s7_1);
      FloatVector a8 = FloatVector.broadcast(SPECIES, xpad[x8 + xi]);
      s8_0 = a8.fma(b0, s8_0); s8_1 = a8.fma(b1, s8_1);
      FloatVector a9 = FloatVector.broadcast(SPECIES, xpad[x9 + xi]);
      s9_0 = a9.fma(b0, s9_0); s9_1 = a9.fma(b1, s9_1);
      FloatVector a10 = FloatVector.broadcast(SPECIES, xpad[x10 + xi]);
      s10_0 = a10.fma(b0, s10_0); s10_1 = a10.fma(b1, s10_1);
      FloatVector a11 = FloatVector.broadcast(SPECIES, xpad[x11 + xi]);
      s11_0 = a11.fma(b0, s11_0); s11_1 = a11.fma(b1, s11_1);
    }
    // Taps past the last ran on a repeated offset; their sums go to the spare rows after K.
    int w0 = k * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w0).add(s0_0).intoArray(dwT, w0);
    FloatVector.fromArray(SPECIES, dwT, w0 + 1 * V).add(s0_1).intoArray(dwT, w0 + 1 * V);
    int w1 = (k + 1 + (1 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w1).add(s1_0).intoArray(dwT, w1);
    FloatVector.fromArray(SPECIES, dwT, w1 + 1 * V).add(s1_1).intoArray(dwT, w1 + 1 * V);
    int w2 = (k + 2 + (2 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w2).add(s2_0).intoArray(dwT, w2);
    FloatVector.fromArray(SPECIES, dwT, w2 + 1 * V).add(s2_1).intoArray(dwT, w2 + 1 * V);
    int w3 = (k + 3 + (3 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w3).add(s3_0).intoArray(dwT, w3);
    FloatVector.fromArray(SPECIES, dwT, w3 + 1 * V).add(s3_1).intoArray(dwT, w3 + 1 * V);
    int w4 = (k + 4 + (4 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w4).add(s4_0).intoArray(dwT, w4);
    FloatVector.fromArray(SPECIES, dwT, w4 + 1 * V).add(s4_1).intoArray(dwT, w4 + 1 * V);
    int w5 = (k + 5 + (5 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w5).add(s5_0).intoArray(dwT, w5);
    FloatVector.fromArray(SPECIES, dwT, w5 + 1 * V).add(s5_1).intoArray(dwT, w5 + 1 * V);
    int w6 = (k + 6 + (6 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w6).add(s6_0).intoArray(dwT, w6);
    FloatVector.fromArray(SPECIES, dwT, w6 + 1 * V).add(s6_1).intoArray(dwT, w6 + 1 * V);
    int w7 = (k + 7 + (7 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w7).add(s7_0).intoArray(dwT, w7);
    FloatVector.fromArray(SPECIES, dwT, w7 + 1 * V).add(s7_1).intoArray(dwT, w7 + 1 * V);
    int w8 = (k + 8 + (8 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w8).add(s8_0).intoArray(dwT, w8);
    FloatVector.fromArray(SPECIES, dwT, w8 + 1 * V).add(s8_1).intoArray(dwT, w8 + 1 * V);
    int w9 = (k + 9 + (9 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w9).add(s9_0).intoArray(dwT, w9);
    FloatVector.fromArray(SPECIES, dwT, w9 + 1 * V).add(s9_1).intoArray(dwT, w9 + 1 * V);
    int w10 = (k + 10 + (10 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w10).add(s10_0).intoArray(dwT, w10);
    FloatVector.fromArray(SPECIES, dwT, w10 + 1 * V).add(s10_1).intoArray(dwT, w10 + 1 * V);
    int w11 = (k + 11 + (11 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w11).add(s11_0).intoArray(dwT, w11);
    FloatVector.fromArray(SPECIES, dwT, w11 + 1 * V).add(s11_1).intoArray(dwT, w11 + 1 * V);
  }

  /** {@link #weightGradientByChannels} for 1 vector of output channels by 24 taps. */
  private static void dwTile1x24(
      int positions, int[] pos, float[] xpad, int[] offsets, int k, int taps, float[] dzT, int ocp, int ob,
      float[] dwT) {
    int x0 = offsets[k];
    int x1 = offsets[k + Math.min(1, taps - 1)];
    int x2 = offsets[k + Math.min(2, taps - 1)];
    int x3 = offsets[k + Math.min(3, taps - 1)];
    int x4 = offsets[k + Math.min(4, taps - 1)];
    int x5 = offsets[k + Math.min(5, taps - 1)];
    int x6 = offsets[k + Math.min(6, taps - 1)];
    int x7 = offsets[k + Math.min(7, taps - 1)];
    int x8 = offsets[k + Math.min(8, taps - 1)];
    int x9 = offsets[k + Math.min(9, taps - 1)];
    int x10 = offsets[k + Math.min(10, taps - 1)];
    int x11 = offsets[k + Math.min(11, taps - 1)];
    int x12 = offsets[k + Math.min(12, taps - 1)];
    int x13 = offsets[k + Math.min(13, taps - 1)];
    int x14 = offsets[k + Math.min(14, taps - 1)];
    int x15 = offsets[k + Math.min(15, taps - 1)];
    int x16 = offsets[k + Math.min(16, taps - 1)];
    int x17 = offsets[k + Math.min(17, taps - 1)];
    int x18 = offsets[k + Math.min(18, taps - 1)];
    int x19 = offsets[k + Math.min(19, taps - 1)];
    int x20 = offsets[k + Math.min(20, taps - 1)];
    int x21 = offsets[k + Math.min(21, taps - 1)];
    int x22 = offsets[k + Math.min(22, taps - 1)];
    int x23 = offsets[k + Math.min(23, taps - 1)];
    FloatVector s0_0 = FloatVector.zero(SPECIES); FloatVector s1_0 = FloatVector.zero(SPECIES);
    FloatVector s2_0 = FloatVector.zero(SPECIES); FloatVector s3_0 = FloatVector.zero(SPECIES);
    FloatVector s4_0 = FloatVector.zero(SPECIES); FloatVector s5_0 = FloatVector.zero(SPECIES);
    FloatVector s6_0 = FloatVector.zero(SPECIES); FloatVector s7_0 = FloatVector.zero(SPECIES);
    FloatVector s8_0 = FloatVector.zero(SPECIES); FloatVector s9_0 = FloatVector.zero(SPECIES);
    FloatVector s10_0 = FloatVector.zero(SPECIES); FloatVector s11_0 = FloatVector.zero(SPECIES);
    FloatVector s12_0 = FloatVector.zero(SPECIES); FloatVector s13_0 = FloatVector.zero(SPECIES);
    FloatVector s14_0 = FloatVector.zero(SPECIES); FloatVector s15_0 = FloatVector.zero(SPECIES);
    FloatVector s16_0 = FloatVector.zero(SPECIES); FloatVector s17_0 = FloatVector.zero(SPECIES);
    FloatVector s18_0 = FloatVector.zero(SPECIES); FloatVector s19_0 = FloatVector.zero(SPECIES);
    FloatVector s20_0 = FloatVector.zero(SPECIES); FloatVector s21_0 = FloatVector.zero(SPECIES);
    FloatVector s22_0 = FloatVector.zero(SPECIES); FloatVector s23_0 = FloatVector.zero(SPECIES);
    for (int p = 0, d = ob; p < positions; p++, d += ocp) {
      int xi = pos[p];
      FloatVector b0 = FloatVector.fromArray(SPECIES, dzT, d);
      FloatVector a0 = FloatVector.broadcast(SPECIES, xpad[x0 + xi]);
      s0_0 = a0.fma(b0, s0_0);
      FloatVector a1 = FloatVector.broadcast(SPECIES, xpad[x1 + xi]);
      s1_0 = a1.fma(b0, s1_0);
      FloatVector a2 = FloatVector.broadcast(SPECIES, xpad[x2 + xi]);
      s2_0 = a2.fma(b0, s2_0);
      FloatVector a3 = FloatVector.broadcast(SPECIES, xpad[x3 + xi]);
      s3_0 = a3.fma(b0, s3_0);
      FloatVector a4 = FloatVector.broadcast(SPECIES, xpad[x4 + xi]);
      s4_0 = a4.fma(b0, s4_0);
      FloatVector a5 = FloatVector.broadcast(SPECIES, xpad[x5 + xi]);
      s5_0 = a5.fma(b0, s5_0);
      FloatVector a6 = FloatVector.broadcast(SPECIES, xpad[x6 + xi]);
      s6_0 = a6.fma(b0, s6_0);
      FloatVector a7 = FloatVector.broadcast(SPECIES, xpad[x7 + xi]);
      s7_0 = a7.fma(b0, s7_0);
      FloatVector a8 = FloatVector.broadcast(SPECIES, xpad[x8 + xi]);
      s8_0 = a8.fma(b0, s8_0);
      FloatVector a9 = FloatVector.broadcast(SPECIES, xpad[x9 + xi]);
      s9_0 = a9.fma(b0, s9_0);
      FloatVector a10 = FloatVector.broadcast(SPECIES, xpad[x10 + xi]);
      s10_0 = a10.fma(b0, s10_0);
      FloatVector a11 = FloatVector.broadcast(SPECIES, xpad[x11 + xi]);
      s11_0 = a11.fma(b0, s11_0);
      FloatVector a12 = FloatVector.broadcast(SPECIES, xpad[x12 + xi]);
      s12_0 = a12.fma(b0, s12_0);
      FloatVector a13 = FloatVector.broadcast(SPECIES, xpad[x13 + xi]);
      s13_0 = a13.fma(b0, s13_0);
      FloatVector a14 = FloatVector.broadcast(SPECIES, xpad[x14 + xi]);
      s14_0 = a14.fma(b0, s14_0);
      FloatVector a15 = FloatVector.broadcast(SPECIES, xpad[x15 + xi]);
      s15_0 = a15.fma(b0, s15_0);
      FloatVector a16 = FloatVector.broadcast(SPECIES, xpad[x16 + xi]);
      s16_0 = a16.fma(b0, s16_0);
      FloatVector a17 = FloatVector.broadcast(SPECIES, xpad[x17 + xi]);
      s17_0 = a17.fma(b0, s17_0);
      FloatVector a18 = FloatVector.broadcast(SPECIES, xpad[x18 + xi]);
      s18_0 = a18.fma(b0, s18_0);
      FloatVector a19 = FloatVector.broadcast(SPECIES, xpad[x19 + xi]);
      s19_0 = a19.fma(b0, s19_0);
      FloatVector a20 = FloatVector.broadcast(SPECIES, xpad[x20 + xi]);
      s20_0 = a20.fma(b0, s20_0);
      FloatVector a21 = FloatVector.broadcast(SPECIES, xpad[x21 + xi]);
      s21_0 = a21.fma(b0, s21_0);
      FloatVector a22 = FloatVector.broadcast(SPECIES, xpad[x22 + xi]);
      s22_0 = a22.fma(b0, s22_0);
      FloatVector a23 = FloatVector.broadcast(SPECIES, xpad[x23 + xi]);
      s23_0 = a23.fma(b0, s23_0);
    }
    // Taps past the last ran on a repeated offset; their sums go to the spare rows after K.
    int w0 = k * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w0).add(s0_0).intoArray(dwT, w0);
    int w1 = (k + 1 + (1 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w1).add(s1_0).intoArray(dwT, w1);
    int w2 = (k + 2 + (2 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w2).add(s2_0).intoArray(dwT, w2);
    int w3 = (k + 3 + (3 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w3).add(s3_0).intoArray(dwT, w3);
    int w4 = (k + 4 + (4 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w4).add(s4_0).intoArray(dwT, w4);
    int w5 = (k + 5 + (5 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w5).add(s5_0).intoArray(dwT, w5);
    int w6 = (k + 6 + (6 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w6).add(s6_0).intoArray(dwT, w6);
    int w7 = (k + 7 + (7 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w7).add(s7_0).intoArray(dwT, w7);
    int w8 = (k + 8 + (8 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w8).add(s8_0).intoArray(dwT, w8);
    int w9 = (k + 9 + (9 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w9).add(s9_0).intoArray(dwT, w9);
    int w10 = (k + 10 + (10 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w10).add(s10_0).intoArray(dwT, w10);
    int w11 = (k + 11 + (11 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w11).add(s11_0).intoArray(dwT, w11);
    int w12 = (k + 12 + (12 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w12).add(s12_0).intoArray(dwT, w12);
    int w13 = (k + 13 + (13 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w13).add(s13_0).intoArray(dwT, w13);
    int w14 = (k + 14 + (14 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w14).add(s14_0).intoArray(dwT, w14);
    int w15 = (k + 15 + (15 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w15).add(s15_0).intoArray(dwT, w15);
    int w16 = (k + 16 + (16 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w16).add(s16_0).intoArray(dwT, w16);
    int w17 = (k + 17 + (17 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w17).add(s17_0).intoArray(dwT, w17);
    int w18 = (k + 18 + (18 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w18).add(s18_0).intoArray(dwT, w18);
    int w19 = (k + 19 + (19 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w19).add(s19_0).intoArray(dwT, w19);
    int w20 = (k + 20 + (20 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w20).add(s20_0).intoArray(dwT, w20);
    int w21 = (k + 21 + (21 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w21).add(s21_0).intoArray(dwT, w21);
    int w22 = (k + 22 + (22 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w22).add(s22_0).intoArray(dwT, w22);
    int w23 = (k + 23 + (23 < taps ? 0 : taps)) * ocp + ob;
    FloatVector.fromArray(SPECIES, dwT, w23).add(s23_0).intoArray(dwT, w23);
  }

  /**
   * dW[o][k] (+)= sum over {@code images} images and {@code columns} grid columns of dz[o][j] *
   * xpad[image * imageFloats + offsets[k] + j], with the grid columns along the vector lanes: the
   * weight gradient of layers with a single vector of output channels or few taps (see {@link
   * #channelsInLanes}) and of the strided kernel. 4 x 4 register blocks of lane-wise partial sums,
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

  private static void add(MemorySegment dst, long at, float value, boolean accumulate) {
    dst.setAtIndex(F32, at, accumulate ? dst.getAtIndex(F32, at) + value : value);
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
    private float[] dzPadded = new float[0];
    private float[] grid = new float[0];
    /** The weight gradient's operands and result: dz by position, positions, dW by tap, db sums. */
    private float[] dzT = new float[0];
    private int[] positions = new int[0];
    /** Grid columns of real output positions ({@link #gemmByChannels}). */
    private int[] gridColumns = new int[0];
    private float[] dwT = new float[0];
    private double[] biasSums = new double[0];
    /** The parked accumulators of one {@link #dot4x4} block or {@link #tileByChannels} tile, and dot4x4's sums. */
    private final float[] lanes =
        new float[Math.max(DOT_BLOCK * DOT_BLOCK, POSITIONS_BY_CHANNELS * VECTORS_BY_CHANNELS) * V];
    private final float[] sums = new float[DOT_BLOCK * DOT_BLOCK];
    /** One image's output gradient masked by the activation, before it is transposed. */
    private float[] maskedImage = new float[0];
    private MemorySegment maskedImageSegment = MemorySegment.ofArray(maskedImage);
    /** One vector parked for {@link #transposeMasked}. */
    private final float[] lane = new float[V];
    /** The geometry whose layouts the zeros of the padded buffers were laid for. */
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

    float[] dzT(long floats) {
      if (dzT.length < floats) {
        dzT = new float[Math.toIntExact(floats)];
      }
      return dzT;
    }

    int[] positions(int count) {
      if (positions.length < count) {
        positions = new int[count];
      }
      return positions;
    }

    int[] gridColumns(int count) {
      if (gridColumns.length < count) {
        gridColumns = new int[count];
      }
      return gridColumns;
    }

    float[] dwT(long floats) {
      if (dwT.length < floats) {
        dwT = new float[Math.toIntExact(floats)];
      }
      return dwT;
    }

    float[] lane() {
      return lane;
    }

    float[] lanes() {
      return lanes;
    }

    float[] sums() {
      return sums;
    }

    /** A scratch image of {@code floats} floats, and the same floats as a segment. */
    float[] maskedImage(int floats) {
      if (maskedImage.length < floats) {
        maskedImage = new float[floats];
        maskedImageSegment = MemorySegment.ofArray(maskedImage);
      }
      return maskedImage;
    }

    MemorySegment maskedImageSegment() {
      return maskedImageSegment;
    }

    double[] biasSums(int count) {
      if (biasSums.length < count) {
        biasSums = new double[count];
      }
      return biasSums;
    }

    /**
     * Makes sure every buffer holds zeros wherever the layouts of {@code g} have no data, clearing
     * them when they were last laid out for another geometry (or are new, hence zero already).
     */
    void claim(ConvGeometry g) {
      if (!g.equals(layoutFor)) {
        Arrays.fill(padded, 0f);
        Arrays.fill(dzPadded, 0f);
        // The grid-column weight gradient reads dz's extra grid columns as zeros.
        Arrays.fill(dzT, 0f);
        layoutFor = g;
      }
    }
  }
}
