package io.dlsql.planner.cost;

import io.dlsql.executor.graph.LayerSpec;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.planner.kernel.Implementation;
import io.dlsql.planner.logical.LogicalNode;
import io.dlsql.planner.logical.Shapes;
import io.dlsql.planner.physical.TensorLayout;
import java.util.OptionalDouble;

/**
 * Estimated time of one node: a measured tuning record for exactly this shape, implementation,
 * layout, direction and thread count when one exists; otherwise a roofline, the larger of FLOPs
 * over the compute ceiling (the machine's GEMM rate times the implementation's efficiency and how
 * well the GEMM's shape fills the register tile) and bytes over the memory bandwidth, plus a
 * fixed cost per kernel call and per parallel region.
 */
public final class TimeProvider {
  /** The GEMM micro-kernel's register tile (rows x columns of C). */
  static final int TILE_ROWS = 8;
  static final int TILE_COLUMNS = 16;
  /** A GEMM with inner dimension k pays packing and loop overhead worth about this many k-steps. */
  static final double K_OVERHEAD = 16;
  /** Fixed cost of calling a kernel, and of handing chunks to the pool and waiting for them. */
  static final double KERNEL_CALL_NANOS = 1_000;
  static final double PARALLEL_REGION_NANOS = 8_000;
  /** Reordering reads and writes with a stride on one side: below streaming bandwidth. */
  static final double CONVERSION_BANDWIDTH_FACTOR = 0.5;

  private final MachineProfile machine;
  private final TuningRecords tuning;
  private final FlopsProvider flops;
  private final BytesMovedProvider bytes;

  public TimeProvider(MachineProfile machine, TuningRecords tuning, FlopsProvider flops,
      BytesMovedProvider bytes) {
    this.machine = machine;
    this.tuning = tuning;
    this.flops = flops;
    this.bytes = bytes;
  }

  /** Estimated nanoseconds of {@code node} under {@code impl} for {@code batch} samples. */
  public double nanos(LogicalNode node, Implementation impl, int batch, Direction direction,
      boolean inputNeedsGrad, FusionRole role, int threads) {
    if (role.folded()) {
      return 0;
    }
    int t = impl.cost().threaded() ? Math.max(1, Math.min(threads, batch)) : 1;
    if (role.readsFirstInput()) {
      OptionalDouble measured = tuning.nanosPerSample(node, impl, direction, t);
      if (measured.isPresent()) {
        return measured.getAsDouble() * batch;
      }
    }
    return roofline(node, impl, batch, direction, inputNeedsGrad, role, t);
  }

  /** Whether ANALYZE MODEL measured {@code node} under {@code impl} in this direction at these threads. */
  public boolean measured(LogicalNode node, Implementation impl, Direction direction, int threads, int batch) {
    int t = impl.cost().threaded() ? Math.max(1, Math.min(threads, batch)) : 1;
    return tuning.nanosPerSample(node, impl, direction, t).isPresent();
  }

  /**
   * An operator applied in another kernel's output loop on values still in registers: its
   * arithmetic over the compute ceiling, no memory traffic and no call of its own.
   */
  public double epilogueNanos(LogicalNode node, Implementation impl, int batch, Direction direction,
      boolean inputNeedsGrad, FusionRole role, int threads) {
    int t = impl.cost().threaded() ? Math.max(1, Math.min(threads, batch)) : 1;
    MachineProfile.Ceilings c = machine.ceilings(t);
    return flops.flops(node, impl, batch, direction, inputNeedsGrad, role)
        / (c.gemmGflops() * impl.cost().computeEfficiency());
  }

  /** The roofline estimate alone, ignoring tuning records. */
  public double roofline(LogicalNode node, Implementation impl, int batch, Direction direction,
      boolean inputNeedsGrad, FusionRole role, int threads) {
    int t = impl.cost().threaded() ? Math.max(1, Math.min(threads, batch)) : 1;
    MachineProfile.Ceilings c = machine.ceilings(t);
    double efficiency = impl.cost().computeEfficiency()
        * (impl.cost().usesGemm() ? gemmShapeEfficiency(node, impl, batch) : 1);
    // GFLOP/s is FLOPs per nanosecond; GB/s is bytes per nanosecond.
    double compute = flops.flops(node, impl, batch, direction, inputNeedsGrad, role) / (c.gemmGflops() * efficiency);
    double memory = bytes.bytes(node, impl, batch, direction, inputNeedsGrad, role) / c.bandwidthGbs();
    // A fused member runs inside its anchor's loop: no call and no parallel region of its own.
    double overhead = role.readsFirstInput() ? KERNEL_CALL_NANOS + (t > 1 ? PARALLEL_REGION_NANOS : 0) : 0;
    return Math.max(compute, memory) + overhead;
  }

  /**
   * Nanoseconds to rewrite a batch of images of per-sample {@code shape} from layout {@code from}
   * into {@code to}: the measured conversion when ANALYZE MODEL timed it, else the roofline.
   */
  public double conversionNanos(int[] shape, TensorLayout from, TensorLayout to, int batch, int threads) {
    int t = Math.max(1, Math.min(threads, batch));
    OptionalDouble measured = tuning.conversionNanosPerSample(shape, from, to, t);
    if (measured.isPresent()) {
      return measured.getAsDouble() * batch;
    }
    return conversionNanos(Shapes.numel(shape) * batch, t);
  }

  /** The roofline of reordering a tensor of {@code elements} floats between layouts. */
  public double conversionNanos(long elements, int threads) {
    MachineProfile.Ceilings c = machine.ceilings(threads);
    double moved = 2.0 * elements * BytesMovedProvider.ELEMENT_BYTES;
    return moved / (c.bandwidthGbs() * CONVERSION_BANDWIDTH_FACTOR) + KERNEL_CALL_NANOS
        + (threads > 1 ? PARALLEL_REGION_NANOS : 0);
  }

  /**
   * How well the GEMM this node runs fills the micro-kernel: the fraction of each register tile
   * holding real rows and columns, times k / (k + overhead). Convolutions run one GEMM per image
   * and group (OC/groups x OH*OW x C/groups*KH*KW); dense runs batch x units x features.
   */
  static double gemmShapeEfficiency(LogicalNode node, Implementation impl, int batch) {
    long m;
    long n;
    long k;
    if (node.spec() instanceof LayerSpec.Dense d) {
      m = batch;
      n = d.units();
      k = node.inputNumel(0);
    } else if (node.geometry() != null) {
      ConvGeometry g = node.geometry();
      m = g.outChannelsPerGroup();
      n = g.outPixels();
      k = g.colRows();
    } else {
      return 1;
    }
    return fill(m, TILE_ROWS) * fill(n, TILE_COLUMNS) * (k / (k + K_OVERHEAD));
  }

  private static double fill(long size, int tile) {
    long padded = (size + tile - 1) / tile * tile;
    return (double) size / padded;
  }
}
