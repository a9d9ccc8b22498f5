package io.dlsql.executor.kernel.blocked;

import io.dlsql.executor.kernel.Parallel;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.conv.SpatialPackConv2d;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The mutable state of one convolution layer when it runs in NHWC or NCHWc: packed weights and
 * per-thread workspaces (padded images, lowered rows, partial weight gradients), allocated on
 * first use and grown, never per call. It runs the four kernels for these layouts: the direct
 * definition (either layout, one thread), im2row + GEMM (NHWC), spatial pack (NCHWc) and
 * depthwise (either), images split across threads and partial weight gradients summed in chunk
 * order, so results depend only on the thread count.
 */
public final class BlockedConvolution implements AutoCloseable {
  /** The kernels this class runs. */
  public enum Kernel {
    DIRECT, IM2ROW, SPATIAL_PACK, DEPTHWISE
  }

  private static final int MIN_IMAGES_PER_CHUNK = 1;

  private final ConvGeometry g;
  /** Spatial pack / depthwise: packed forward weights; spatial pack: transposed weights. */
  private float[] packed = new float[0];
  private float[] transposed = new float[0];
  private float[] bias = new float[0];
  /** Per chunk (heap): padded image, output-gradient image, padded input gradient, packed weight and bias gradients. */
  private float[][] padded = new float[0][];
  private float[][] gradImage = new float[0][];
  private float[][] paddedGrad = new float[0][];
  private float[][] weightGrad = new float[0][];
  private float[][] biasGrad = new float[0][];
  /** im2row (off-heap, GEMM operands): packed weights, and per chunk rows and packed weight and bias gradients. */
  private Tensor rowWeights;
  private Tensor[] rows = new Tensor[0];
  private Tensor[] rowWeightGrad = new Tensor[0];
  private Tensor[] rowBiasGrad = new Tensor[0];

  public BlockedConvolution(ConvGeometry geometry) {
    this.g = geometry;
  }

  /** Whether {@code kernel} computes {@code g} in {@code layout}: the layouts' part of the algorithm matrix. */
  public static boolean supports(Kernel kernel, Layout layout, ConvGeometry g) {
    return switch (kernel) {
      case DIRECT -> layout != Layout.NCHW;
      case IM2ROW -> layout == Layout.NHWC;
      case SPATIAL_PACK -> layout == Layout.NCHWC && SpatialPackConv2d.supports(g);
      case DEPTHWISE -> layout != Layout.NCHW && BlockedDepthwiseConv2d.supports(g);
    };
  }

  /** Floats of workspace one thread holds for {@code kernel}. */
  public static long workspaceFloats(Kernel kernel, ConvGeometry g) {
    return switch (kernel) {
      case DIRECT -> 0;
      case IM2ROW -> Im2rowConv2d.workspaceSize(g) + g.weightCount() + g.outChannels();
      case SPATIAL_PACK -> 2L * SpatialPackConv2d.paddedImageSize(g) + SpatialPackConv2d.outputImageSize(g)
          + SpatialPackConv2d.packedWeightsSize(g) + (long) Layout.blocks(g.outChannels()) * Layout.CHANNEL_BLOCK;
      case DEPTHWISE -> BlockedDepthwiseConv2d.packedWeightsSize(g) + (long) Layout.blocks(g.outChannels()) * Layout.CHANNEL_BLOCK;
    };
  }

  /** Floats the layer keeps once for {@code kernel}: packed weights. */
  public static long layerFloats(Kernel kernel, ConvGeometry g) {
    return switch (kernel) {
      case DIRECT -> 0;
      case IM2ROW -> g.weightCount();
      case SPATIAL_PACK -> SpatialPackConv2d.packedWeightsSize(g) + SpatialPackConv2d.transposedWeightsSize(g);
      case DEPTHWISE -> BlockedDepthwiseConv2d.packedWeightsSize(g);
    };
  }

  private static void check(Kernel kernel, Layout layout, ConvGeometry g) {
    if (!supports(kernel, layout, g)) {
      throw new IllegalStateException(kernel + " convolution does not run in " + layout + " for " + g);
    }
  }

  // x: (N, C, H, W) in layout -> y: (N, OC, OH, OW) in layout = act(conv(x, w) + b)
  public void forward(Kernel kernel, Layout layout, int n, MemorySegment x, MemorySegment w, MemorySegment b,
      FusedActivation act, MemorySegment y) {
    check(kernel, layout, g);
    if (kernel == Kernel.DIRECT) {
      LayoutDirectConv2d.forward(g, layout, n, x, w, b, y);
      if (act == FusedActivation.RELU) {
        ElementwiseKernels.relu(y, y, 0, n * layout.imageSize(g.outChannels(), g.outHeight(), g.outWidth()));
      }
      return;
    }
    Parallel pool = Parallel.get();
    int chunks = pool.chunks(n, MIN_IMAGES_PER_CHUNK);
    long inImage = layout.imageSize(g.inChannels(), g.inHeight(), g.inWidth());
    long outImage = layout.imageSize(g.outChannels(), g.outHeight(), g.outWidth());
    switch (kernel) {
      case IM2ROW -> {
        ensureRows(chunks);
        Im2rowConv2d.packWeights(g, w, rowWeights.segment());
        MemorySegment wp = rowWeights.segment();
        pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> Im2rowConv2d.forward(g, to - from, x,
            from * inImage, wp, b, act, rows[chunk].segment(), y, from * outImage));
      }
      case SPATIAL_PACK -> {
        ensureHeap(chunks, kernel);
        SpatialPackConv2d.packWeights(g, w, packed);
        fillBias(b);
        pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
          for (int img = from; img < to; img++) {
            SpatialPackConv2d.padImage(g, x, img * inImage, padded[chunk]);
            SpatialPackConv2d.forwardImage(g, padded[chunk], packed, bias, act, y, img * outImage);
          }
        });
      }
      case DEPTHWISE -> {
        ensureHeap(chunks, kernel);
        BlockedDepthwiseConv2d.packWeights(g, w, packed);
        fillBias(b);
        ChannelTiling tx = ChannelTiling.of(layout, n, g.inChannels(), g.inHeight(), g.inWidth());
        ChannelTiling ty = ChannelTiling.of(layout, n, g.outChannels(), g.outHeight(), g.outWidth());
        pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
          for (int img = from; img < to; img++) {
            BlockedDepthwiseConv2d.forwardImage(g, tx, x, ty, y, img, packed, bias, act);
          }
        });
      }
      case DIRECT -> throw new IllegalStateException("direct convolution runs unsplit");
    }
  }

  // Differentiates y = act(conv(x, w) + b) given dz = dy * act'(y): dw and db (may be null)
  // overwritten, dx (may be null) overwritten.
  public void backward(Kernel kernel, Layout layout, int n, MemorySegment x, MemorySegment w, MemorySegment dz,
      MemorySegment dw, MemorySegment db, MemorySegment dx) {
    check(kernel, layout, g);
    if (kernel == Kernel.DIRECT) {
      LayoutDirectConv2d.backwardWeights(g, layout, n, x, dz, dw, db);
      if (dx != null) {
        LayoutDirectConv2d.backwardData(g, layout, n, dz, w, dx);
      }
      return;
    }
    Parallel pool = Parallel.get();
    int chunks = pool.chunks(n, MIN_IMAGES_PER_CHUNK);
    long inImage = layout.imageSize(g.inChannels(), g.inHeight(), g.inWidth());
    long outImage = layout.imageSize(g.outChannels(), g.outHeight(), g.outWidth());
    switch (kernel) {
      case IM2ROW -> {
        ensureRows(chunks);
        Im2rowConv2d.packWeights(g, w, rowWeights.segment());
        MemorySegment wp = rowWeights.segment();
        pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> Im2rowConv2d.backward(g, to - from, x,
            from * inImage, wp, dz, from * outImage, rows[chunk].segment(), rowWeightGrad[chunk].segment(),
            db == null ? null : rowBiasGrad[chunk].segment(), false, dx, from * inImage));
        for (int c = 1; c < chunks; c++) {
          ElementwiseKernels.addInto(rowWeightGrad[0].segment(),
              rowWeightGrad[c].segment(), 0, g.weightCount());
          if (db != null) {
            ElementwiseKernels.addInto(rowBiasGrad[0].segment(),
                rowBiasGrad[c].segment(), 0, g.outChannels());
          }
        }
        Im2rowConv2d.unpackWeights(g, rowWeightGrad[0].segment(), dw);
        if (db != null) {
          MemorySegment.copy(rowBiasGrad[0].segment(), 0, db, 0, (long) g.outChannels() * Float.BYTES);
        }
      }
      case SPATIAL_PACK -> {
        ensureHeap(chunks, kernel);
        SpatialPackConv2d.packTransposedWeights(g, w, transposed);
        pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
          Arrays.fill(weightGrad[chunk], 0f);
          Arrays.fill(biasGrad[chunk], 0f);
          for (int img = from; img < to; img++) {
            SpatialPackConv2d.copyOutputImage(g, dz, img * outImage, gradImage[chunk]);
            SpatialPackConv2d.padImage(g, x, img * inImage, padded[chunk]);
            SpatialPackConv2d.backwardWeightsImage(g, padded[chunk], gradImage[chunk], weightGrad[chunk],
                db == null ? null : biasGrad[chunk]);
            if (dx != null) {
              SpatialPackConv2d.backwardDataImage(g, gradImage[chunk], transposed, paddedGrad[chunk]);
              SpatialPackConv2d.unpadImage(g, paddedGrad[chunk], dx, img * inImage);
            }
          }
        });
        sumPartials(chunks);
        SpatialPackConv2d.unpackWeights(g, weightGrad[0], dw, false);
        writeBiasGrad(db);
      }
      case DEPTHWISE -> {
        ensureHeap(chunks, kernel);
        BlockedDepthwiseConv2d.packWeights(g, w, packed);
        ChannelTiling tx = ChannelTiling.of(layout, n, g.inChannels(), g.inHeight(), g.inWidth());
        ChannelTiling ty = ChannelTiling.of(layout, n, g.outChannels(), g.outHeight(), g.outWidth());
        pool.forRange(n, MIN_IMAGES_PER_CHUNK, (chunk, from, to) -> {
          Arrays.fill(weightGrad[chunk], 0f);
          Arrays.fill(biasGrad[chunk], 0f);
          for (int img = from; img < to; img++) {
            BlockedDepthwiseConv2d.backwardImage(g, tx, x, ty, dz, img, packed, weightGrad[chunk],
                db == null ? null : biasGrad[chunk], dx);
          }
        });
        sumPartials(chunks);
        BlockedDepthwiseConv2d.unpackWeights(g, weightGrad[0], dw, false);
        writeBiasGrad(db);
      }
      case DIRECT -> throw new IllegalStateException("direct convolution runs unsplit");
    }
  }

  private void sumPartials(int chunks) {
    for (int c = 1; c < chunks; c++) {
      for (int i = 0; i < weightGrad[0].length; i++) {
        weightGrad[0][i] += weightGrad[c][i];
      }
      for (int i = 0; i < biasGrad[0].length; i++) {
        biasGrad[0][i] += biasGrad[c][i];
      }
    }
  }

  private void writeBiasGrad(MemorySegment db) {
    if (db == null) {
      return;
    }
    for (int oc = 0; oc < g.outChannels(); oc++) {
      db.setAtIndex(Tensor.F32, oc, biasGrad[0][oc]);
    }
  }

  private void fillBias(MemorySegment b) {
    Arrays.fill(bias, 0f);
    if (b != null) {
      for (int oc = 0; oc < g.outChannels(); oc++) {
        bias[oc] = b.getAtIndex(Tensor.F32, oc);
      }
    }
  }

  private void ensureHeap(int chunks, Kernel kernel) {
    int blocksOut = Layout.blocks(g.outChannels()) * Layout.CHANNEL_BLOCK;
    boolean spatial = kernel == Kernel.SPATIAL_PACK;
    int weights = spatial ? SpatialPackConv2d.packedWeightsSize(g) : BlockedDepthwiseConv2d.packedWeightsSize(g);
    if (packed.length != weights) {
      packed = new float[weights];
      weightGrad = new float[0][];
    }
    if (spatial && transposed.length == 0) {
      transposed = new float[SpatialPackConv2d.transposedWeightsSize(g)];
    }
    if (bias.length == 0) {
      bias = new float[blocksOut];
    }
    int image = spatial ? SpatialPackConv2d.paddedImageSize(g) : 0;
    if (weightGrad.length < chunks || spatial && (padded.length < chunks || padded[0].length < image)) {
      int count = Math.max(chunks, weightGrad.length);
      weightGrad = new float[count][weights];
      biasGrad = new float[count][blocksOut];
      padded = new float[count][image];
      paddedGrad = new float[count][image];
      gradImage = new float[count][spatial ? SpatialPackConv2d.outputImageSize(g) : 0];
    }
  }

  private void ensureRows(int chunks) {
    if (rowWeights == null) {
      rowWeights = Tensor.zeros(Math.toIntExact(g.weightCount()));
    }
    if (rows.length >= chunks) {
      return;
    }
    Tensor[] r = Arrays.copyOf(rows, chunks);
    Tensor[] dw = Arrays.copyOf(rowWeightGrad, chunks);
    Tensor[] db = Arrays.copyOf(rowBiasGrad, chunks);
    for (int c = rows.length; c < chunks; c++) {
      r[c] = Tensor.zeros(Math.toIntExact(Im2rowConv2d.workspaceSize(g)));
      dw[c] = Tensor.zeros(Math.toIntExact(g.weightCount()));
      db[c] = Tensor.zeros(g.outChannels());
    }
    rows = r;
    rowWeightGrad = dw;
    rowBiasGrad = db;
  }

  @Override
  public void close() {
    if (rowWeights != null) {
      rowWeights.close();
    }
    for (int c = 0; c < rows.length; c++) {
      rows[c].close();
      rowWeightGrad[c].close();
      rowBiasGrad[c].close();
    }
    rows = new Tensor[0];
  }
}
