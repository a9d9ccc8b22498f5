package io.dlsql.executor.kernel.conv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cost inputs strided implicit GEMM exposes against what it does: the scratch its threads
 * really allocate, and multiply-adds no fewer than the convolution's own. (Results are checked
 * against the references in the layer tests, ConvAlgorithmTest and LayerReferenceTest.)
 */
class StridedImplicitGemmConv2dTest {
  /** Computed over own multiply-adds at most, on ResNet-20's stride-2 layers (7x7 grids are 8x8). */
  private static final double MAX_RESNET_OVERHEAD = 4.0 / 3;

  /** ResNet-20's stride-2 layers on 28x28 inputs, and a ragged 5x5 one. */
  private static final List<ConvGeometry> GEOMETRIES = List.of(
      ConvGeometry.of(16, 28, 28, 32, 3, 2, 1, 1, 1),
      ConvGeometry.of(32, 14, 14, 64, 3, 2, 1, 1, 1),
      ConvGeometry.of(16, 28, 28, 32, 1, 2, 0, 1, 1),
      ConvGeometry.of(32, 14, 14, 64, 1, 2, 0, 1, 1),
      ConvGeometry.of(3, 13, 11, 5, 5, 2, 2, 1, 1));

  @Test
  void workspaceIsWhatTheKernelAllocates() {
    for (ConvGeometry g : GEOMETRIES) {
      int batch = 40;
      // A fresh thread, so its buffers hold only what this geometry asked for.
      long[] held = new long[1];
      Thread t = new Thread(() -> {
        try (Tensor x = Tensor.zeros(batch, g.inChannels(), g.inHeight(), g.inWidth());
            Tensor y = Tensor.zeros(batch, g.outChannels(), g.outHeight(), g.outWidth());
            Tensor dx = Tensor.zeros(batch, g.inChannels(), g.inHeight(), g.inWidth());
            Tensor w = Tensor.zeros(g.outChannels(), g.inChannels(), g.kernelH(), g.kernelW());
            Tensor dw = Tensor.zeros(g.outChannels(), g.inChannels(), g.kernelH(), g.kernelW())) {
          float[] packed = new float[StridedImplicitGemmConv2d.packedWeightsSize(g)];
          StridedImplicitGemmConv2d.packWeights(g, w.segment(), packed);
          float[][] phases = new float[StridedImplicitGemmConv2d.phases(g)][];
          StridedImplicitGemmConv2d.packTransposedWeights(g, w.segment(), phases);
          StridedImplicitGemmConv2d.forward(g, batch, x.segment(), 0, packed, null, FusedActivation.RELU,
              y.segment(), 0);
          StridedImplicitGemmConv2d.backward(g, batch, x.segment(), 0, phases, FusedActivation.RELU, y.segment(), 0,
              y.segment(), 0, dw.segment(), null, false, dx.segment(), 0);
          held[0] = StridedImplicitGemmConv2d.Workspace.current().floats();
        }
      });
      t.start();
      try {
        t.join();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      assertEquals(StridedImplicitGemmConv2d.workspaceSize(g), held[0], g.toString());
      ConvCost cost = Conv2d.cost(Conv2d.Algorithm.STRIDED_IMPLICIT_GEMM, g, batch);
      assertEquals(Float.BYTES * held[0], cost.workspaceBytesPerThread(), g.toString());
      // At least the convolution's own arithmetic; on ResNet-20's layers (channels in whole tiles)
      // the dropped grid columns add less than a third.
      long ownFlops = 2 * g.macsPerImage() * batch;
      double most = g.outChannels() % ImplicitGemmConv2d.MR == 0 ? MAX_RESNET_OVERHEAD : Double.MAX_VALUE;
      assertTrue(cost.forwardFlops() >= ownFlops && cost.forwardFlops() < most * ownFlops, g + " " + cost);
      assertTrue(cost.backwardFlops() >= 2 * ownFlops && cost.backwardFlops() < 2 * most * ownFlops, g + " " + cost);
    }
  }

  @Test
  void stride2IsTheDefaultAndNothingElse() {
    for (ConvGeometry g : GEOMETRIES) {
      assertEquals(Conv2d.Algorithm.STRIDED_IMPLICIT_GEMM, Conv2d.defaultAlgorithm(g), g.toString());
    }
    assertFalse(StridedImplicitGemmConv2d.supports(ConvGeometry.of(16, 28, 28, 32, 3, 1, 1, 1, 1)));
    assertFalse(StridedImplicitGemmConv2d.supports(ConvGeometry.of(16, 28, 28, 32, 3, 2, 1, 2, 1)));
    assertFalse(StridedImplicitGemmConv2d.supports(ConvGeometry.of(16, 28, 28, 32, 3, 2, 1, 1, 2)));
    assertFalse(StridedImplicitGemmConv2d.supports(ConvGeometry.of(16, 28, 28, 32, 3, 3, 1, 1, 1)));
  }
}
