package io.dlsql.executor.kernel.conv;

import static io.dlsql.executor.tensor.Tensor.F32;

import io.dlsql.executor.kernel.conv.ImplicitGemmConv2d.Padded;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.elementwise.KernelSwitch;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stride-2 convolution (3x3 downsampling, 1x1 projection shortcuts) as implicit GEMM on the input
 * split into its four stride phases, so neither an im2col matrix nor col2im is ever made.
 *
 * <p>Phase {@code (a, b)} of a zero-padded image holds its padded rows {@code 2i + a} and columns
 * {@code 2j + b}. Output {@code (oh, ow)} reads tap {@code (kh, kw)} at padded {@code (2oh + kh,
 * 2ow + kw)}, which is phase {@code (kh % 2, kw % 2)} at {@code (oh + kh/2, ow + kw/2)}: a stride-1
 * access. So each image is copied once (de-interleaved) into phase planes whose rows are {@code
 * rowStride} floats apart, and every im2col row is one contiguous run of a phase plane at a fixed
 * offset, as in {@link ImplicitGemmConv2d}; its register tile, output store and weight-gradient
 * dot products run here on that layout's offset table. Small maps are stacked (several images'
 * planes one above the other) so a GEMM has enough columns.
 *
 * <ul>
 *   <li>forward: the implicit GEMM over the phase planes, bias and activation as the grid is
 *       copied to y;
 *   <li>input gradient: phase {@code (a, b)} of dx is a stride-1 convolution of the (masked)
 *       output gradient with the taps {@code kh = a (mod 2)}, {@code kw = b (mod 2)}, flipped: one
 *       implicit GEMM per phase over a zero-bordered copy of dz, then the four phase grids are
 *       interleaved into dx with two-vector permutes (nothing scattered, nothing added twice);
 *   <li>weight gradient: dot products of dz on the forward grid with the phase-plane runs, over a
 *       group of stacked units sized to stay in L2.
 * </ul>
 *
 * <p>Scratch lives in per-thread heap buffers ({@link Workspace}, {@link #workspaceSize} floats)
 * that only grow, so steady-state calls allocate nothing. Offsets into segments are in floats;
 * weights are (OC, C, KH, KW).
 */
public final class StridedImplicitGemmConv2d {
  private StridedImplicitGemmConv2d() {}

  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
  private static final int V = SPECIES.length();
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  /** The one stride this kernel computes, in both directions. */
  static final int STRIDE = 2;
  /** Grid columns a stack of small images aims at (whole tiles waste less, loops run longer). */
  static final int STACK_TARGET_COLUMNS = 1024;
  /** Images per stack at most. */
  static final int MAX_STACK = 32;
  /** Weight-gradient dot products run over this many grid columns at least (lane sums amortised)... */
  static final int TARGET_GROUP_COLUMNS = 4096;
  /** ...unless a group's phase planes and dz would exceed this many floats (half the L2 of a core). */
  static final int MAX_GROUP_FLOATS = 128 * 1024;

  /** Lane j of the result takes lane 2j (EVEN) or 2j+1 (ODD) of two vectors read as one table. */
  private static final FloatVector EVEN = indices(j -> 2 * j);
  private static final FloatVector ODD = indices(j -> 2 * j + 1);
  /** Interleave two vectors e, o into (e0 o0 e1 o1 ...): its first V lanes (LOW) and next V (HIGH). */
  private static final FloatVector ZIP_LOW = indices(j -> (j & 1) * V + j / 2);
  private static final FloatVector ZIP_HIGH = indices(j -> (j & 1) * V + (V + j) / 2);

  /** Lane j holds {@code index(j)}: a table index for the two-vector {@code selectFrom} (one permute). */
  private static FloatVector indices(java.util.function.IntUnaryOperator index) {
    float[] lanes = new float[V];
    for (int j = 0; j < V; j++) {
      lanes[j] = index.applyAsInt(j);
    }
    return FloatVector.fromArray(SPECIES, lanes, 0);
  }

  /** Whether this algorithm computes {@code g}: stride 2 both ways, no dilation, one group. */
  public static boolean supports(ConvGeometry g) {
    return g.strideH() == STRIDE && g.strideW() == STRIDE && g.dilationH() == 1 && g.dilationW() == 1
        && g.groups() == 1 && g.padTop() >= 0 && g.padLeft() >= 0;
  }

  /**
   * Where one stacked unit of images lives in the phase buffers and grids, forward and input
   * gradient. Forward: image {@code s} of the unit has phase rows {@code [s*rows, (s+1)*rows)} in
   * each of the {@code phases} planes of each channel ({@code phaseFloats} apart; channels {@code
   * channelFloats} apart), grid column {@code (s*rows + oh) * rowStride + ow}. Input gradient: dz
   * of image s has rows {@code [s*dzRows + top, ...)} of a plane of {@code dzPlane} floats whose
   * rows are {@code dzRowStride} apart; phase (a, b) of dx row {@code 2i + a - padTop}, column
   * {@code 2j + b - padLeft} is dx grid column {@code (s*dzRows + i) * dzRowStride + j}.
   */
  record Layout(
      int stack, int phasesH, int phasesW, int rows, int rowStride, int phaseFloats, int channelFloats,
      int unitFloats, Padded forward, int dzTop, int dzLead, int dzRows, int dzRowStride, int dzPlane,
      int dzFloats, Padded[] phaseGrids, int[] phaseTaps) {

    static Layout of(ConvGeometry g) {
      int phasesH = Math.min(STRIDE, g.kernelH());
      int phasesW = Math.min(STRIDE, g.kernelW());
      int reachH = (g.kernelH() - 1) / STRIDE;
      int reachW = (g.kernelW() - 1) / STRIDE;
      int rows = g.outHeight() + reachH;
      int rowStride = g.outWidth() + reachW;
      // Input gradient: dx phase rows 0..gridH-1 and columns 0..gridW-1 cover every input pixel.
      int gridH = (g.padTop() + g.inHeight() - 1) / STRIDE + 1;
      int gridW = (g.padLeft() + g.inWidth() - 1) / STRIDE + 1;
      int dzRows = Math.max(gridH, reachH + g.outHeight());
      int dzRowStride = Math.max(gridW, g.outWidth() + reachW);
      int perImage = Math.max(rows * rowStride, dzRows * dzRowStride);
      int stack = Math.clamp(STACK_TARGET_COLUMNS / perImage, 1, MAX_STACK);

      int grid = stack * rows * rowStride;
      int padded = ImplicitGemmConv2d.roundUp(grid, ImplicitGemmConv2d.NR);
      int phaseFloats = grid;
      int channelFloats = phasesH * phasesW * phaseFloats;
      int taps = g.kernelH() * g.kernelW();
      int[] offsets = new int[g.inChannels() * taps];
      for (int c = 0; c < g.inChannels(); c++) {
        for (int kh = 0; kh < g.kernelH(); kh++) {
          for (int kw = 0; kw < g.kernelW(); kw++) {
            int phase = (kh % STRIDE) * phasesW + kw % STRIDE;
            offsets[c * taps + kh * g.kernelW() + kw] =
                c * channelFloats + phase * phaseFloats + (kh / STRIDE) * rowStride + kw / STRIDE;
          }
        }
      }
      // The tiles read up to a whole tile past the grid (dropped columns) and reach*rows beyond.
      int unitFloats = g.inChannels() * channelFloats + (padded - grid) + reachH * rowStride + reachW + 2 * V;
      Padded forward = new Padded(rowStride, 0, channelFloats, grid, padded, offsets);

      int dzGrid = stack * dzRows * dzRowStride;
      int dzPadded = ImplicitGemmConv2d.roundUp(dzGrid, ImplicitGemmConv2d.NR);
      // Lead zeros for reads left of column 0, reachH zero rows after the last image.
      int dzPlane = reachW + dzGrid + reachH * dzRowStride;
      int dzFloats = g.outChannels() * dzPlane + (dzPadded - dzGrid) + 2 * V;
      Padded[] phaseGrids = new Padded[phasesH * phasesW];
      int[] phaseTaps = new int[phasesH * phasesW];
      for (int a = 0; a < phasesH; a++) {
        for (int b = 0; b < phasesW; b++) {
          int th = tapsOfPhase(g.kernelH(), a);
          int tw = tapsOfPhase(g.kernelW(), b);
          int[] t = new int[g.outChannels() * th * tw];
          int k = 0;
          for (int o = 0; o < g.outChannels(); o++) {
            for (int u = 0; u < th; u++) {
              for (int v = 0; v < tw; v++) {
                // Tap (kh, kw) = (a + 2u, b + 2v) reads dz at (i - u, j - v).
                t[k++] = o * dzPlane + reachW + (reachH - u) * dzRowStride - v;
              }
            }
          }
          phaseGrids[a * phasesW + b] = new Padded(dzRowStride, reachW, dzPlane, dzGrid, dzPadded, t);
          phaseTaps[a * phasesW + b] = th * tw;
        }
      }
      return new Layout(stack, phasesH, phasesW, rows, rowStride, phaseFloats, channelFloats, unitFloats,
          forward, reachH, reachW, dzRows, dzRowStride, dzPlane, dzFloats, phaseGrids, phaseTaps);
    }
  }

  /** Kernel taps {@code k < size} with {@code k = phase (mod 2)}. */
  static int tapsOfPhase(int size, int phase) {
    return (size - phase + 1) / STRIDE;
  }

  /** Units of stacked images whose weight gradients are summed together before their lanes are added. */
  static int groupUnits(ConvGeometry g, Layout l) {
    int dzColumns = ImplicitGemmConv2d.roundUp(l.forward().gridColumns(), V);
    int byColumns = Math.ceilDiv(TARGET_GROUP_COLUMNS, dzColumns);
    int byMemory = Math.max(1, MAX_GROUP_FLOATS / (l.unitFloats() + g.outChannels() * dzColumns));
    return Math.max(1, Math.min(byColumns, byMemory));
  }

  /** Floats {@link #packTransposedWeights} writes for phase {@code p} (0..3, row phase * 2 + column phase). */
  static int packedPhaseSize(ConvGeometry g, Layout l, int p) {
    return ImplicitGemmConv2d.paddedRows(g.inChannels()) * g.outChannels() * l.phaseTaps()[p];
  }

  /**
   * Whether the forward runs implicit GEMM's by-channels tiles (output channels along the lanes,
   * only real output positions computed): output channels a whole number of those tiles, small
   * maps stacked, and a kernel wider than 1x1, whose phase grid has dropped columns (a third more
   * columns than outputs at 7x7).
   */
  static boolean forwardByChannels(ConvGeometry g) {
    return g.outChannels() % (ImplicitGemmConv2d.VECTORS_BY_CHANNELS * V) == 0 && g.kernelH() * g.kernelW() > 1
        && Layout.of(g).stack() > 1;
  }

  /** Floats {@link #packWeights} writes for {@code g}. */
  public static int packedWeightsSize(ConvGeometry g) {
    return ImplicitGemmConv2d.paddedRows(g.outChannels()) * g.colRows();
  }

  /**
   * Packs w (OC, C*KH*KW) for the forward: tap-major ({@code dst[k * OC + o]}) for the by-channels
   * tiles ({@link #forwardByChannels}), else in slivers of {@link ImplicitGemmConv2d#MR} output
   * channels (sliver s holds, for each tap k, the weights of channels {@code s .. s+MR-1}, zeros
   * past OC), the order the register tile reads them in.
   */
  public static void packWeights(ConvGeometry g, MemorySegment w, float[] dst) {
    int mr = ImplicitGemmConv2d.MR;
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
    int rows = ImplicitGemmConv2d.paddedRows(g.outChannels());
    for (int s = 0; s < rows; s += mr) {
      for (int k = 0; k < r; k++) {
        for (int i = 0; i < mr; i++) {
          int oc = s + i;
          dst[s * r + k * mr + i] = oc < g.outChannels() ? w.getAtIndex(F32, (long) oc * r + k) : 0f;
        }
      }
    }
  }

  /** Floats {@link #packTransposedWeights} writes for {@code g}, all phases together. */
  public static long packedTransposedWeightsSize(ConvGeometry g) {
    Layout l = Layout.of(g);
    long floats = 0;
    for (int p = 0; p < l.phaseTaps().length; p++) {
      floats += packedPhaseSize(g, l, p);
    }
    return floats;
  }

  /** Phases of dx with taps (4 for kernels of at least 2x2; one for 1x1). */
  public static int phases(ConvGeometry g) {
    return Math.min(STRIDE, g.kernelH()) * Math.min(STRIDE, g.kernelW());
  }

  /**
   * Packs, per phase {@code (a, b)} of dx, the weights its GEMM multiplies: rows input channels
   * (slivers of {@link ImplicitGemmConv2d#MR}, zeros past C), k over (output channel, tap {@code
   * kh = a + 2u}, {@code kw = b + 2v}). {@code dst} holds one array per phase ({@link #phases}),
   * each resized as needed.
   */
  public static void packTransposedWeights(ConvGeometry g, MemorySegment w, float[][] dst) {
    Layout l = Layout.of(g);
    int mr = ImplicitGemmConv2d.MR;
    int rows = ImplicitGemmConv2d.paddedRows(g.inChannels());
    int taps = g.kernelH() * g.kernelW();
    for (int a = 0; a < l.phasesH(); a++) {
      for (int b = 0; b < l.phasesW(); b++) {
        int p = a * l.phasesW() + b;
        int th = tapsOfPhase(g.kernelH(), a);
        int tw = tapsOfPhase(g.kernelW(), b);
        int r = g.outChannels() * th * tw;
        if (dst[p] == null || dst[p].length < packedPhaseSize(g, l, p)) {
          dst[p] = new float[packedPhaseSize(g, l, p)];
        }
        float[] out = dst[p];
        for (int s = 0; s < rows; s += mr) {
          int k = 0;
          for (int o = 0; o < g.outChannels(); o++) {
            for (int u = 0; u < th; u++) {
              for (int v = 0; v < tw; v++) {
                int tap = (a + STRIDE * u) * g.kernelW() + b + STRIDE * v;
                for (int i = 0; i < mr; i++) {
                  int c = s + i;
                  out[s * r + k * mr + i] = c < g.inChannels()
                      ? w.getAtIndex(F32, ((long) o * g.inChannels() + c) * taps + tap) : 0f;
                }
                k++;
              }
            }
          }
        }
      }
    }
  }

  /** Floats of per-thread scratch this algorithm holds for {@code g} (forward and backward). */
  public static long workspaceSize(ConvGeometry g) {
    Layout l = Layout.of(g);
    int group = groupUnits(g, l);
    long split = (long) group * l.unitFloats();
    long dz = (long) g.outChannels() * group * ImplicitGemmConv2d.roundUp(l.forward().gridColumns(), V);
    // The by-channels forward also holds its list of real output columns (ints, as many bytes).
    long columns = forwardByChannels(g) ? (long) l.stack() * g.outPixels() : 0;
    return split + dz + l.dzFloats() + gridFloats(g, l) + phaseGridFloats(g, l) + columns;
  }

  /** Floats of the first grid buffer: the forward's, or one phase of the input gradient's. */
  private static long gridFloats(ConvGeometry g, Layout l) {
    return Math.max((long) ImplicitGemmConv2d.paddedRows(g.outChannels()) * l.forward().paddedColumns(),
        phaseGridFloats(g, l));
  }

  /** Floats of the second grid buffer, one phase of the input gradient (the interleave reads a vector past a row). */
  private static long phaseGridFloats(ConvGeometry g, Layout l) {
    return (long) ImplicitGemmConv2d.paddedRows(g.inChannels()) * l.phaseGrids()[0].paddedColumns() + 2 * V;
  }

  /**
   * Multiply-adds per image of the forward kernel, dropped grid columns and padded channel tiles
   * included (the weight gradient costs as much without the tile rounding).
   */
  public static long forwardMacsPerImage(ConvGeometry g) {
    Layout l = Layout.of(g);
    return (long) ImplicitGemmConv2d.paddedRows(g.outChannels()) * g.colRows() * l.forward().paddedColumns()
        / l.stack();
  }

  /** Multiply-adds per image of the input gradient's phase GEMMs, dropped columns and tiles included. */
  public static long inputGradientMacsPerImage(ConvGeometry g) {
    Layout l = Layout.of(g);
    long macs = 0;
    for (int p = 0; p < l.phaseTaps().length; p++) {
      macs += (long) ImplicitGemmConv2d.paddedRows(g.inChannels()) * g.outChannels() * l.phaseTaps()[p]
          * l.phaseGrids()[p].paddedColumns();
    }
    return macs / l.stack();
  }

  /** Floats per image the kernel copies beyond input and output: the phase planes (forward), and dz twice (backward). */
  public static long splitFloatsPerImage(ConvGeometry g) {
    Layout l = Layout.of(g);
    return (long) g.inChannels() * l.channelFloats() / l.stack();
  }

  // y (count, OC, OH, OW) = act(conv(x (count, C, H, W), w) + b); packed from packWeights.
  public static void forward(
      ConvGeometry g, int count, MemorySegment x, long xOff, float[] packed, MemorySegment b,
      FusedActivation act, MemorySegment y, long yOff) {
    Layout l = Layout.of(g);
    Workspace ws = Workspace.current();
    float[] split = ws.split(l.unitFloats());
    float[] grid = ws.grid0(gridFloats(g, l));
    boolean byChannels = forwardByChannels(g);
    int[] columns = byChannels ? ws.columns(l.stack() * g.outPixels()) : null;
    ws.claim(g);
    int imageRows = l.rows() * l.rowStride();
    for (int first = 0; first < count; first += l.stack()) {
      // A short last stack leaves earlier images in the other slots; their rows are dropped.
      int images = Math.min(l.stack(), count - first);
      for (int s = 0; s < images; s++) {
        split(g, l, x, xOff + (first + s) * g.inputSize(), split, s * imageRows);
      }
      if (byChannels) {
        int n = ImplicitGemmConv2d.outputColumns(images, g.outHeight(), g.outWidth(), imageRows, l.rowStride(),
            columns);
        ImplicitGemmConv2d.gemmByChannels(g.outChannels(), g.colRows(), l.forward(), packed, split, columns, n, grid,
            ImplicitGemmConv2d.Workspace.current().lanes());
      } else {
        ImplicitGemmConv2d.gemm(ImplicitGemmConv2d.paddedRows(g.outChannels()), g.colRows(), l.forward(), packed,
            split, 0, grid);
      }
      for (int s = 0; s < images; s++) {
        ImplicitGemmConv2d.store(g.outChannels(), g.outHeight(), g.outWidth(), l.forward(), grid, s * imageRows,
            b, act, y, yOff + (first + s) * g.outputSize());
      }
    }
  }

  /**
   * Backward of {@link #forward} for {@code count} images: {@code dz = dy * act'(y)} (y read only
   * for a non-identity act); dW (OC, C, KH, KW) and db (may be null) written when {@code
   * accumulate} is false and added to otherwise; dx (count, C, H, W) overwritten when not null,
   * from {@code packedPhases} ({@link #packTransposedWeights}).
   */
  public static void backward(
      ConvGeometry g, int count, MemorySegment x, long xOff, float[][] packedPhases, FusedActivation act,
      MemorySegment y, long yOff, MemorySegment dy, long dyOff, MemorySegment dw, MemorySegment db,
      boolean accumulate, MemorySegment dx, long dxOff) {
    Layout l = Layout.of(g);
    int group = groupUnits(g, l);
    int oc = g.outChannels();
    int c = g.inChannels();
    int dzColumns = ImplicitGemmConv2d.roundUp(l.forward().gridColumns(), V);
    int ldz = group * dzColumns;
    Workspace ws = Workspace.current();
    float[] split = ws.split((long) group * l.unitFloats());
    float[] dz = ws.dz((long) oc * ldz);
    float[] dzPadded = ws.dzPadded(l.dzFloats());
    float[] grid0 = ws.grid0(gridFloats(g, l));
    float[] grid1 = ws.grid1(phaseGridFloats(g, l));
    float[] lanes = ImplicitGemmConv2d.Workspace.current().lanes();
    ws.claim(g);
    int imageRows = l.rows() * l.rowStride();
    int dzImage = l.dzRows() * l.dzRowStride();
    int perGroup = group * l.stack();
    for (int first = 0; first < count; first += perGroup) {
      int units = Math.ceilDiv(Math.min(perGroup, count - first), l.stack());
      for (int u = 0; u < units; u++) {
        int firstImage = first + u * l.stack();
        int images = Math.min(l.stack(), count - firstImage);
        if (images < l.stack()) {
          // The empty slots of a short stack must add nothing to dW: clear their dz.
          for (int o = 0; o < oc; o++) {
            int row = o * ldz + u * dzColumns;
            Arrays.fill(dz, row + images * imageRows, row + dzColumns, 0f);
          }
        }
        for (int s = 0; s < images; s++) {
          int img = firstImage + s;
          long yAt = yOff + img * g.outputSize();
          long dyAt = dyOff + img * g.outputSize();
          split(g, l, x, xOff + img * g.inputSize(), split, u * l.unitFloats() + s * imageRows);
          ImplicitGemmConv2d.maskToGrid(oc, g.outHeight(), g.outWidth(), l.rowStride(), act, y, yAt, dy, dyAt, dz,
              ldz, u * dzColumns + s * imageRows);
          if (dx != null) {
            ImplicitGemmConv2d.pad(oc, g.outHeight(), g.outWidth(), l.dzTop(), l.phaseGrids()[0], dy, dyAt, y, yAt,
                act, dzPadded, s * dzImage);
          }
        }
        if (dx != null) {
          inputGradient(g, l, images, packedPhases, dzPadded, grid0, grid1, dx,
              dxOff + firstImage * g.inputSize());
        }
      }
      ImplicitGemmConv2d.weightGradient(g, l.forward(), units, l.unitFloats(), dz, ldz, dzColumns, split, lanes, dw,
          accumulate || first > 0);
      if (db != null) {
        for (int o = 0; o < oc; o++) {
          double sum = 0;
          int row = o * ldz;
          for (int j = 0; j < units * dzColumns; j++) {
            sum += dz[row + j];
          }
          float before = accumulate || first > 0 ? db.getAtIndex(F32, o) : 0f;
          db.setAtIndex(F32, o, before + (float) sum);
        }
      }
    }
  }

  /** dx of the {@code images} images of one unit: per row phase, its column phases' GEMMs, then interleaved rows. */
  private static void inputGradient(
      ConvGeometry g, Layout l, int images, float[][] packed, float[] dzPadded, float[] grid0, float[] grid1,
      MemorySegment dx, long dxOff) {
    int rows = ImplicitGemmConv2d.paddedRows(g.inChannels());
    for (int a = 0; a < STRIDE; a++) {
      // Row phases past the kernel's height (1x1) and column phases past its width have no taps: zeros.
      boolean rowHasTaps = a < l.phasesH();
      if (rowHasTaps) {
        for (int b = 0; b < l.phasesW(); b++) {
          int p = a * l.phasesW() + b;
          ImplicitGemmConv2d.gemm(rows, g.outChannels() * l.phaseTaps()[p], l.phaseGrids()[p], packed[p],
              dzPadded, 0, b == 0 ? grid0 : grid1);
        }
      }
      interleave(g, l, a, images, rowHasTaps ? grid0 : null, rowHasTaps && l.phasesW() > 1 ? grid1 : null,
          dx, dxOff);
    }
  }

  /**
   * Writes the dx rows of row phase {@code a} for {@code images} images: padded column {@code q}
   * of a row comes from column phase {@code q % 2} at {@code q / 2}; a null grid is a phase
   * without taps (zeros).
   */
  private static void interleave(
      ConvGeometry g, Layout l, int a, int images, float[] phase0, float[] phase1, MemorySegment dx, long dxOff) {
    int h = g.inHeight();
    int w = g.inWidth();
    int pl = g.padLeft();
    // Even input columns iw = 2t are padded column 2t + pl: phase pl % 2, index t + pl / 2; odd ones the other.
    float[] even = (pl & 1) == 0 ? phase0 : phase1;
    float[] odd = (pl & 1) == 0 ? phase1 : phase0;
    int evenLead = pl >> 1;
    int oddLead = (pl + 1) >> 1;
    int ld = l.phaseGrids()[0].paddedColumns();
    int dzImage = l.dzRows() * l.dzRowStride();
    boolean vector = KernelSwitch.vector();
    long limit = dx.byteSize() / Float.BYTES;
    FloatVector zero = FloatVector.zero(SPECIES);
    int firstRow = Math.floorMod(a - g.padTop(), STRIDE);
    for (int s = 0; s < images; s++) {
      for (int c = 0; c < g.inChannels(); c++) {
        for (int ih = firstRow; ih < h; ih += STRIDE) {
          int i = (ih + g.padTop()) >> 1;
          int from = c * ld + s * dzImage + i * l.dzRowStride();
          long to = dxOff + ((long) (s * g.inChannels() + c) * h + ih) * w;
          int t = 0;
          if (vector) {
            for (; 2 * t < w; t += V) {
              int n = w - 2 * t;
              if (n < 2 * V && to + 2 * t + 2 * V > limit) {
                break;
              }
              FloatVector e = even == null ? zero : FloatVector.fromArray(SPECIES, even, from + evenLead + t);
              FloatVector o = odd == null ? zero : FloatVector.fromArray(SPECIES, odd, from + oddLead + t);
              FloatVector low = ZIP_LOW.selectFrom(e, o);
              FloatVector high = ZIP_HIGH.selectFrom(e, o);
              long at = (to + 2 * t) * Float.BYTES;
              if (n >= 2 * V) {
                low.intoMemorySegment(dx, at, ORDER);
                high.intoMemorySegment(dx, at + (long) V * Float.BYTES, ORDER);
              } else {
                low.intoMemorySegment(dx, at, ORDER, SPECIES.indexInRange(0, n));
                high.intoMemorySegment(dx, at + (long) V * Float.BYTES, ORDER, SPECIES.indexInRange(V, n));
              }
            }
          }
          for (int iw = 2 * t; iw < w; iw++) {
            float[] src = (iw & 1) == 0 ? even : odd;
            int j = (iw >> 1) + ((iw & 1) == 0 ? evenLead : oddLead);
            dx.setAtIndex(F32, to + iw, src == null ? 0f : src[from + j]);
          }
        }
      }
    }
  }

  /**
   * Copies image x (C, H, W) at {@code xOff} into slot {@code dstOff} of the phase planes: padded
   * row {@code r = ih + padTop} goes to row phase {@code r % 2}, row {@code r / 2}; its even and odd
   * input columns to the two column phases. Only positions some output reads are written; the
   * zeros around them were laid when the buffer was claimed and stay.
   */
  private static void split(ConvGeometry g, Layout l, MemorySegment x, long xOff, float[] dst, int dstOff) {
    int h = g.inHeight();
    int w = g.inWidth();
    int pl = g.padLeft();
    // Even input columns land in column phase pl % 2 from index pl / 2, odd ones in the other.
    int evenPhase = pl & 1;
    int oddPhase = (pl + 1) & 1;
    int evenLead = pl >> 1;
    int oddLead = (pl + 1) >> 1;
    int evenCount = evenPhase < l.phasesW() ? Math.clamp(l.rowStride() - evenLead, 0, (w + 1) / 2) : 0;
    int oddCount = oddPhase < l.phasesW() ? Math.clamp(l.rowStride() - oddLead, 0, w / 2) : 0;
    boolean vector = KernelSwitch.vector();
    long limit = x.byteSize() / Float.BYTES;
    for (int c = 0; c < g.inChannels(); c++) {
      for (int ih = 0; ih < h; ih++) {
        int r = ih + g.padTop();
        int a = r & 1;
        int i = r >> 1;
        if (a >= l.phasesH() || i >= l.rows()) {
          continue;
        }
        int row = dstOff + c * l.channelFloats() + i * l.rowStride();
        int evenTo = row + (a * l.phasesW() + evenPhase) * l.phaseFloats() + evenLead;
        int oddTo = row + (a * l.phasesW() + oddPhase) * l.phaseFloats() + oddLead;
        long from = xOff + ((long) c * h + ih) * w;
        int t = 0;
        if (vector) {
          int count = Math.max(evenCount, oddCount);
          for (; t < count && from + 2 * t + 2 * V <= limit; t += V) {
            FloatVector v0 = FloatVector.fromMemorySegment(SPECIES, x, (from + 2 * t) * Float.BYTES, ORDER);
            FloatVector v1 = FloatVector.fromMemorySegment(SPECIES, x, (from + 2 * t + V) * Float.BYTES, ORDER);
            if (t < evenCount) {
              FloatVector e = EVEN.selectFrom(v0, v1);
              if (evenCount - t >= V) {
                e.intoArray(dst, evenTo + t);
              } else {
                e.intoArray(dst, evenTo + t, SPECIES.indexInRange(t, evenCount));
              }
            }
            if (t < oddCount) {
              FloatVector o = ODD.selectFrom(v0, v1);
              if (oddCount - t >= V) {
                o.intoArray(dst, oddTo + t);
              } else {
                o.intoArray(dst, oddTo + t, SPECIES.indexInRange(t, oddCount));
              }
            }
          }
        }
        for (int e = t; e < evenCount; e++) {
          dst[evenTo + e] = x.getAtIndex(F32, from + 2L * e);
        }
        for (int o = t; o < oddCount; o++) {
          dst[oddTo + o] = x.getAtIndex(F32, from + 2L * o + 1);
        }
      }
    }
  }

  /**
   * One thread's buffers. The phase planes and dz buffers must hold zeros wherever the layout has
   * no data; they are cleared whenever the geometry they were last laid out for changes (another
   * layer), otherwise only their data positions are overwritten.
   */
  static final class Workspace {
    private static final ThreadLocal<Workspace> PER_THREAD = ThreadLocal.withInitial(Workspace::new);

    private float[] split = new float[0];
    private float[] dz = new float[0];
    private float[] dzPadded = new float[0];
    private float[] grid0 = new float[0];
    private float[] grid1 = new float[0];
    private int[] columns = new int[0];
    private ConvGeometry layoutFor;

    static Workspace current() {
      return PER_THREAD.get();
    }

    private static float[] grow(float[] a, long floats) {
      return a.length >= floats ? a : new float[Math.toIntExact(floats)];
    }

    float[] split(long floats) {
      return split = grow(split, floats);
    }

    float[] dz(long floats) {
      return dz = grow(dz, floats);
    }

    float[] dzPadded(long floats) {
      return dzPadded = grow(dzPadded, floats);
    }

    float[] grid0(long floats) {
      return grid0 = grow(grid0, floats);
    }

    float[] grid1(long floats) {
      return grid1 = grow(grid1, floats);
    }

    int[] columns(int count) {
      if (columns.length < count) {
        columns = new int[count];
      }
      return columns;
    }

    /** Floats this thread's buffers hold now (what {@link #workspaceSize} promises at most). */
    long floats() {
      return (long) split.length + dz.length + dzPadded.length + grid0.length + grid1.length + columns.length;
    }

    /** Clears the zero-bordered buffers when they were last laid out for another geometry. */
    void claim(ConvGeometry g) {
      if (!g.equals(layoutFor)) {
        Arrays.fill(split, 0f);
        Arrays.fill(dz, 0f);
        Arrays.fill(dzPadded, 0f);
        layoutFor = g;
      }
    }
  }
}
