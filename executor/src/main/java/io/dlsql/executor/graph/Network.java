package io.dlsql.executor.graph;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.kernel.blocked.ChannelPadding;
import io.dlsql.executor.kernel.conv.ConvGeometry;
import io.dlsql.executor.kernel.elementwise.ElementwiseKernels;
import io.dlsql.executor.kernel.elementwise.FusedActivation;
import io.dlsql.executor.kernel.layout.LayoutConversion;
import io.dlsql.executor.layer.Activation;
import io.dlsql.executor.layer.Add;
import io.dlsql.executor.layer.BatchNorm2d;
import io.dlsql.executor.layer.Concat;
import io.dlsql.executor.layer.Conv2d;
import io.dlsql.executor.layer.Dense;
import io.dlsql.executor.layer.Dropout;
import io.dlsql.executor.layer.Flatten;
import io.dlsql.executor.layer.GlobalAvgPool;
import io.dlsql.executor.layer.InitScheme;
import io.dlsql.executor.layer.Layer;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.layer.Pool2d;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Layout;
import io.dlsql.executor.tensor.Tensor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * An executable network: one {@link Layer} per node of a {@link NetworkSpec}, forward in node
 * order and backward in reverse. Activations and their gradients are buffers from a {@link
 * TensorPool} (sized for the largest batch seen): each activation lives from its forward until
 * its last reader (evaluation) or until its node's backward (training), unless training neither
 * reads it in backward nor needs it to recompute a {@link RecomputeSchedule} segment, and each
 * gradient lives from its first writer to its node's backward. Where a node feeds several others,
 * the first gradient to arrive is written in place and later ones go to a scratch buffer and are
 * added, in a fixed order. Parameter and buffer names follow PyTorch's state dict ({@code <node>.weight}, {@code
 * <node>.bias}, {@code <node>.running_mean}, {@code <node>.running_var}).
 */
public final class Network implements AutoCloseable {
  private final NetworkSpec spec;
  private final long seed;
  private final Layer[] layers;
  /** Per node, per input slot: the index of the node it reads, or -1 for the network input. */
  private final int[][] sources;
  /** Per node, per input slot: whether its gradient goes to a scratch buffer and is then added. */
  private final boolean[][] viaScratch;
  private final int outputNode;
  private final int[][] shapes;

  /** Per node, the choice the planner (or a caller) made for it; defaults until set. */
  private final NodeChoice[] choices;
  /**
   * Per node, the layout it reads and writes images in (NCHW until {@link #chooseLayout}); an
   * input arriving in another layout is converted into a buffer held until the node's backward
   * (training) or the end of its forward (evaluation), and the gradient goes back converted.
   */
  private final Layout[] layouts;
  /** Per node, per input slot: the input converted into the node's layout while held, and its view. */
  private final Tensor[][] convertedOwners;
  private final Tensor[][] convertedViews;
  /** Per node, the producer whose layer computes this node's output (a fused ReLU), or -1. */
  private int[] absorbedBy;
  /** Per convolution, the batchnorm node it folds in evaluation (writing that node's output), or -1. */
  private int[] foldTarget;
  /** Per batchnorm, the convolution that computes it in evaluation, or -1. */
  private int[] foldedInto;
  private boolean lastForwardFolded;

  /** Samples the buffers of the current step are sized for: the largest batch seen in its mode. */
  private int capacity;
  /**
   * The largest batch seen per mode, evaluation [0] and training [1]: kept apart so a larger
   * validation batch does not make training's buffers (and its peak memory) larger.
   */
  private final int[] capacities = new int[2];
  private int batch = -1;
  /** Where every activation, activation gradient and gradient scratch buffer comes from and goes back to. */
  private final TensorPool pool = new TensorPool();
  /** The im2col buffers every convolution of this network shares: layers run one at a time. */
  private final Conv2d.Workspace convWorkspace = new Conv2d.Workspace();
  /** Per slot (the node that writes it): the pooled buffer held now, or null, and its batch view. */
  private Tensor[] outputOwners = new Tensor[0];
  private Tensor[] outputViews = new Tensor[0];
  /** Per node: the gradient of the loss by its output while backward holds it, and its view. */
  private Tensor[] gradOwners = new Tensor[0];
  private Tensor[] gradViews = new Tensor[0];
  private Tensor input;
  private boolean forwardWasTraining;
  private long stepSeed;
  private long forwardCount;
  private RecomputeSchedule recompute = RecomputeSchedule.NONE;
  /** The evaluation [0] and training [1] step programs for the current choices and schedule. */
  private final StepProgram[] programs = new StepProgram[2];
  /** A node reads at most this many inputs, usually; more only grow a scratch array. */
  private static final int MAX_INPUTS_HINT = 2;
  /** Per node, wall nanoseconds spent in forward and in backward since the last reset. */
  private final long[] forwardNanos;
  private final long[] backwardNanos;
  /** Per node, wall nanoseconds spent recomputing its forward in backward since the last reset. */
  private final long[] recomputeNanos;
  private boolean stepSeedSet;
  /** The clock {@link #layerTimes()} reads: wall time by default. */
  private LongSupplier clock = System::nanoTime;

  private Network(NetworkSpec spec, long seed, InitScheme init) {
    this.spec = spec;
    this.seed = seed;
    List<Node> nodes = spec.nodes();
    LinkedHashMap<String, int[]> shapeByName = spec.shapes();
    int count = nodes.size();
    layers = new Layer[count];
    forwardNanos = new long[count];
    backwardNanos = new long[count];
    recomputeNanos = new long[count];
    outputOwners = new Tensor[count];
    outputViews = new Tensor[count];
    gradOwners = new Tensor[count];
    gradViews = new Tensor[count];
    sources = new int[count][];
    shapes = new int[count][];
    List<LayerSpec> specs = spec.layerSpecs();
    try {
      for (int i = 0; i < count; i++) {
        Node node = nodes.get(i);
        sources[i] = node.inputs().stream().mapToInt(spec::indexOf).toArray();
        int[][] in = node.inputs().stream().map(shapeByName::get).toArray(int[][]::new);
        shapes[i] = shapeByName.get(node.name());
        layers[i] = createLayer(node.name(), specs.get(i), in, shapes[i], LayerSpec.where(i + 1, node.op()));
        layers[i].initialize(init, Rng.derive(seed, i));
        if (layers[i] instanceof Conv2d c) {
          c.shareWorkspace(convWorkspace);
        }
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    outputNode = spec.indexOf(spec.outputName());
    choices = new NodeChoice[count];
    Arrays.fill(choices, NodeChoice.DEFAULT);
    layouts = new Layout[count];
    Arrays.fill(layouts, Layout.NCHW);
    convertedOwners = new Tensor[count][];
    convertedViews = new Tensor[count][];
    for (int i = 0; i < count; i++) {
      convertedOwners[i] = new Tensor[sources[i].length];
      convertedViews[i] = new Tensor[sources[i].length];
    }
    // Gradient routing, decided once: walking backward, the loss is the first consumer of the
    // output node, and the first consumer of any other node writes its gradient in place.
    viaScratch = new boolean[count][];
    boolean[] reached = new boolean[count];
    reached[outputNode] = true;
    for (int i = count - 1; i >= 0; i--) {
      viaScratch[i] = new boolean[sources[i].length];
      for (int k = 0; k < sources[i].length; k++) {
        int j = sources[i][k];
        if (j >= 0) {
          viaScratch[i][k] = reached[j];
          reached[j] = true;
        }
      }
    }
    planFusion();
  }

  /**
   * What to run for one node: the convolution algorithm (null: the layer's default), and whether
   * the node may absorb the ReLU that alone consumes it (conv/batchnorm/add/dense + ReLU in one
   * pass) and, for a convolution whose only consumer is a batchnorm, fold that batchnorm into its
   * weights during evaluation.
   */
  public record NodeChoice(Conv2d.Algorithm algorithm, boolean fuseActivation, boolean foldBatchNorm) {
    /**
     * The executor's defaults: the layer's own algorithm, ReLU fusion (exact: the same values as a
     * separate ReLU) and batchnorm folding in evaluation, so PREDICT and EVALUATE run a
     * convolution + batchnorm (+ ReLU) as one kernel. Folding rounds differently from a separate
     * batchnorm in the last bits (within {@code NetworkFusionTest}'s tolerance); a caller that
     * compares against an unfused reference turns it off ({@link #setBatchNormFolding}).
     */
    public static final NodeChoice DEFAULT = new NodeChoice(null, true, true);

    /** This choice with another algorithm. */
    public NodeChoice withAlgorithm(Conv2d.Algorithm a) {
      return new NodeChoice(a, fuseActivation, foldBatchNorm);
    }

    /** This choice with batchnorm folding on or off. */
    public NodeChoice withFoldBatchNorm(boolean fold) {
      return new NodeChoice(algorithm, fuseActivation, fold);
    }
  }

  /** Turns folding of batchnorm into the convolution before it on or off for every convolution (evaluation only). */
  public void setBatchNormFolding(boolean fold) {
    for (int i = 0; i < layers.length; i++) {
      if (layers[i] instanceof Conv2d) {
        choices[i] = choices[i].withFoldBatchNorm(fold);
      }
    }
    closeActivations();
    capacity = 0;
    Arrays.fill(capacities, 0);
    batch = -1;
    planFusion();
  }

  /** The current choice for node {@code node}. */
  public NodeChoice choice(String node) {
    return choices[nodeIndex(node)];
  }

  /**
   * Applies {@code choice} to {@code node}. Fusion changes which buffers nodes share, so the
   * activations are reallocated at the next forward.
   *
   * @throws UserException if the node does not exist or the algorithm cannot compute it
   */
  public void choose(String node, NodeChoice choice) {
    int i = nodeIndex(node);
    if (choice.algorithm() != null) {
      if (!(layers[i] instanceof Conv2d c)) {
        throw new UserException("layer " + node + " is not a convolution; it has no algorithm to choose");
      }
      if (!Conv2d.supports(choice.algorithm(), layouts[i], c.geometry())) {
        throw new UserException("convolution algorithm " + choice.algorithm() + " cannot compute layer "
            + node + " (" + c.geometry() + ") in layout " + layouts[i]);
      }
      c.setAlgorithm(choice.algorithm());
    }
    choices[i] = choice;
    closeActivations();
    capacity = 0;
    Arrays.fill(capacities, 0);
    batch = -1;
    planFusion();
  }

  /** The layout node {@code node} reads and writes images in. */
  public Layout layout(String node) {
    return layouts[nodeIndex(node)];
  }

  /**
   * Runs node {@code node} in {@code layout}: it reads its image inputs and writes its image
   * output in that layout, with conversions where a neighbour's layout differs. A convolution
   * whose algorithm does not run in the layout takes {@link Conv2d#defaultAlgorithm}. Nodes that
   * touch no images (dense layers) have only NCHW.
   *
   * @throws UserException if the node does not exist or touches no images and layout is not NCHW
   */
  public void chooseLayout(String node, Layout layout) {
    int i = nodeIndex(node);
    if (!handlesImages(i) && layout != Layout.NCHW) {
      throw new UserException("layer " + node + " works on flat features; it has no " + layout + " layout");
    }
    layouts[i] = layout;
    if (layers[i] instanceof Conv2d c && !Conv2d.supports(c.algorithm(), layout, c.geometry())) {
      Conv2d.Algorithm a = Conv2d.defaultAlgorithm(layout, c.geometry());
      c.setAlgorithm(a);
      choices[i] = choices[i].withAlgorithm(a);
    }
    closeActivations();
    capacity = 0;
    batch = -1;
    planFusion();
  }

  /** Runs every node that touches images in {@code layout} (conversions only at the input and at flat layers). */
  public void setLayout(Layout layout) {
    for (int i = 0; i < layers.length; i++) {
      if (handlesImages(i)) {
        chooseLayout(layers[i].name(), layout);
      }
    }
  }

  /** Whether node {@code i} reads or writes image batches (N, C, H, W). */
  private boolean handlesImages(int i) {
    if (shapes[i].length == 3) {
      return true;
    }
    for (int k = 0; k < sources[i].length; k++) {
      if (sourceShape(i, k).length == 3) {
        return true;
      }
    }
    return false;
  }

  private int[] sourceShape(int i, int k) {
    return sources[i][k] < 0 ? spec.inputShape() : shapes[sources[i][k]];
  }

  /** The layout node {@code i}'s output is stored in: its own for images, NCHW for flat outputs. */
  private Layout outputLayout(int i) {
    return shapes[i].length == 3 ? layouts[i] : Layout.NCHW;
  }

  private int nodeIndex(String node) {
    for (int i = 0; i < layers.length; i++) {
      if (layers[i].name().equals(node)) {
        return i;
      }
    }
    throw new UserException("the model has no layer named " + node);
  }

  /** Names of nodes whose work another node's kernel does: fused ReLUs, and batchnorms folded in evaluation. */
  public List<String> fusedNodes() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < layers.length; i++) {
      if (absorbedBy[i] >= 0 || foldedInto[i] >= 0) {
        out.add(layers[i].name() + (absorbedBy[i] >= 0
            ? " -> " + layers[absorbedBy[i]].name() : " -> " + layers[foldedInto[i]].name() + " (evaluation)"));
      }
    }
    return out;
  }

  /**
   * Decides, from the choices, which ReLUs their producer computes and which batchnorms their
   * convolution folds in evaluation, and tells the layers. A node is fused only when its producer
   * feeds nothing else and is not the network output, so no other reader sees the changed value.
   */
  private void planFusion() {
    int count = layers.length;
    int[] consumers = new int[count];
    for (int[] src : sources) {
      for (int j : src) {
        if (j >= 0) {
          consumers[j]++;
        }
      }
    }
    absorbedBy = new int[count];
    foldTarget = new int[count];
    foldedInto = new int[count];
    Arrays.fill(absorbedBy, -1);
    Arrays.fill(foldTarget, -1);
    Arrays.fill(foldedInto, -1);
    for (int i = 0; i < count; i++) {
      setFusedActivation(layers[i], FusedActivation.IDENTITY);
      if (layers[i] instanceof Conv2d c) {
        c.setFoldedBatchNorm(null);
      }
    }
    for (int r = 0; r < count; r++) {
      if (!(layers[r] instanceof Activation a) || a.kind() != Op.RELU || sources[r].length != 1) {
        continue;
      }
      int p = sources[r][0];
      if (p < 0 || consumers[p] != 1 || p == outputNode || !choices[p].fuseActivation() || layouts[p] != layouts[r]
          || !setFusedActivation(layers[p], FusedActivation.RELU)) {
        continue;
      }
      absorbedBy[r] = p;
    }
    for (int b = 0; b < count; b++) {
      if (!(layers[b] instanceof BatchNorm2d bn) || sources[b].length != 1) {
        continue;
      }
      int c = sources[b][0];
      if (c >= 0 && layers[c] instanceof Conv2d conv && consumers[c] == 1 && choices[c].foldBatchNorm()
          && layouts[c] == layouts[b]
          && conv.fusedActivation() == FusedActivation.IDENTITY && bn.outputShape().length == 3) {
        conv.setFoldedBatchNorm(bn);
        foldTarget[c] = b;
        foldedInto[b] = c;
      }
    }
  }

  /** Sets the fused activation of layers that have one; false for the others. */
  private static boolean setFusedActivation(Layer layer, FusedActivation act) {
    switch (layer) {
      case Conv2d c -> c.setFusedActivation(act);
      case BatchNorm2d b -> b.setFusedActivation(act);
      case Add a -> a.setFusedActivation(act);
      case Dense d -> d.setFusedActivation(act);
      default -> {
        return false;
      }
    }
    return true;
  }

  /** Builds the network with PyTorch's default initialisation drawn from {@code seed}. */
  public static Network build(NetworkSpec spec, long seed) {
    return build(spec, seed, InitScheme.DEFAULT);
  }

  /** Builds the network with the given initialisation drawn from {@code seed}. */
  public static Network build(NetworkSpec spec, long seed, InitScheme init) {
    return new Network(spec, seed, init);
  }

  private static Layer createLayer(String name, LayerSpec ls, int[][] in, int[] out, String where) {
    return switch (ls) {
      case LayerSpec.Conv2d c -> {
        ConvGeometry g = c.geometry(in[0], where);
        yield new Conv2d(name, g, c.bias());
      }
      case LayerSpec.BatchNorm b -> new BatchNorm2d(name, in[0], b.eps(), b.momentum());
      case LayerSpec.Activation a -> new Activation(name, in[0], a.kind(), a.slope());
      case LayerSpec.Pool p -> new Pool2d(name, in[0], out, p.max(), p.kernelH(), p.kernelW(),
          p.strideH(), p.strideW(), p.padH(), p.padW());
      case LayerSpec.GlobalAvgPool g -> new GlobalAvgPool(name, in[0]);
      case LayerSpec.Dense d -> new Dense(name, Math.toIntExact(numel(in[0])), d.units(), d.bias());
      case LayerSpec.Dropout d -> new Dropout(name, in[0], d.p());
      case LayerSpec.Flatten f -> new Flatten(name, Math.toIntExact(numel(in[0])));
      case LayerSpec.Add a -> new Add(name, out);
      case LayerSpec.Concat c -> new Concat(name, in, out);
    };
  }

  private static long numel(int[] shape) {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  public NetworkSpec spec() {
    return spec;
  }

  /** The seed the weights were initialised from. */
  public long seed() {
    return seed;
  }

  /** The layers in node order (for the planner to choose algorithms, and for tests). */
  public List<Layer> layers() {
    return Collections.unmodifiableList(Arrays.asList(layers));
  }

  /** Uses {@code algorithm} for every convolution (each must support it). */
  public void setConvAlgorithm(Conv2d.Algorithm algorithm) {
    for (int i = 0; i < layers.length; i++) {
      if (layers[i] instanceof Conv2d c) {
        c.setAlgorithm(algorithm);
        choices[i] = choices[i].withAlgorithm(algorithm);
      }
    }
  }

  /** Seeds the dropout masks of the next forward; without it each forward draws a fresh seed. */
  public void setStepSeed(long stepSeed) {
    this.stepSeed = stepSeed;
    this.stepSeedSet = true;
  }

  /**
   * Sizes this step's buffers for the largest batch its mode has seen, so a smaller last batch
   * reuses the same buffers; buffers of other sizes in the pool give way as the new ones are taken.
   */
  private void ensureCapacity(int n, boolean training) {
    int mode = training ? 1 : 0;
    capacities[mode] = Math.max(capacities[mode], n);
    capacity = capacities[mode];
  }

  private static int[] batched(int n, int[] sample) {
    int[] s = new int[sample.length + 1];
    s[0] = n;
    System.arraycopy(sample, 0, s, 1, sample.length);
    return s;
  }

  /** A buffer for a batch of node {@code node}'s per-sample shape: the pooled owner and its batch view. */
  private Tensor[] takeBuffer(int node) {
    return takeBuffer(shapes[node], outputLayout(node));
  }

  /** A buffer for a batch of per-sample shape {@code sample} in {@code layout}: the pooled owner and its batch view. */
  private Tensor[] takeBuffer(int[] sample, Layout layout) {
    if (layout == Layout.NCHW) {
      Tensor owner = pool.take(capacity * numel(sample));
      return new Tensor[] {owner, owner.reshape(batched(capacity, sample)).slice(0, batch)};
    }
    Tensor owner = pool.take(capacity * layout.imageSize(sample[0], sample[1], sample[2]));
    Tensor view = Tensor.wrap(owner.segment(), layout, batched(capacity, sample)).slice(0, batch);
    // Pooled memory holds old values; NCHWc's padding channels must read zero, and kernels keep them so.
    ChannelPadding.clear(view);
    return new Tensor[] {owner, view};
  }

  /** Whether input slot {@code k} of node {@code i} arrives in another layout than the node reads. */
  private boolean converts(int i, int k, Tensor source) {
    return sourceShape(i, k).length == 3 && source.layout() != layouts[i];
  }

  /** Gives back the converted inputs node {@code i} holds. */
  private void releaseConverted(int i) {
    for (int k = 0; k < convertedOwners[i].length; k++) {
      if (convertedOwners[i][k] != null) {
        pool.give(convertedOwners[i][k]);
        convertedOwners[i][k] = null;
        convertedViews[i][k] = null;
      }
    }
  }

  /** Takes the output buffer of slot {@code s} unless it is already held. */
  private void holdOutput(int s) {
    if (outputOwners[s] == null) {
      Tensor[] b = takeBuffer(s);
      outputOwners[s] = b[0];
      outputViews[s] = b[1];
    }
  }

  /** Gives slot {@code s}'s output buffer back; its view keeps the shape for readers that need only that. */
  private void releaseOutput(int s) {
    if (outputOwners[s] != null) {
      pool.give(outputOwners[s]);
      outputOwners[s] = null;
    }
  }

  /** Gives back every buffer of the latest step (the logits included). */
  private void releaseStep() {
    for (int i = 0; i < convertedOwners.length; i++) {
      releaseConverted(i);
    }
    for (int s = 0; s < outputOwners.length; s++) {
      releaseOutput(s);
    }
    for (int i = 0; i < gradOwners.length; i++) {
      if (gradOwners[i] != null) {
        pool.give(gradOwners[i]);
        gradOwners[i] = null;
        gradViews[i] = null;
      }
    }
  }

  /**
   * Sets which nodes training recomputes in backward instead of keeping from forward ({@link
   * RecomputeSchedule#NONE}: none). Results are bit-identical to the schedule without
   * recomputation: recomputed dropout draws the same mask, and batchnorm's running statistics
   * are restored after a recomputed forward, so they move once per step.
   *
   * @throws IllegalArgumentException if a segment names a node past the last
   */
  public void setRecomputeSchedule(RecomputeSchedule schedule) {
    for (RecomputeSchedule.Segment s : schedule.segments()) {
      if (s.last() >= layers.length) {
        throw new IllegalArgumentException(
            "recompute segment " + s + " past the last node " + (layers.length - 1));
      }
    }
    recompute = schedule;
    programs[0] = null;
    programs[1] = null;
  }

  /**
   * The most bytes of activations, activation gradients and gradient scratch held at once since
   * the buffers were last sized (the first forward, or one with a larger batch).
   */
  public long activationPeakBytes() {
    return pool.peakInUseBytes();
  }

  /** The current recomputation schedule. */
  public RecomputeSchedule recomputeSchedule() {
    return recompute;
  }

  /**
   * What one kind of step runs, decided once per configuration: per node the slot holding its
   * value (its own, a fused producer's, or in evaluation the convolution that folds it), which
   * nodes run, how many forward reads each slot gets, which slots forward keeps for backward
   * (everything backward or a recomputation will read), the recompute segment of each node, and
   * per slot the node whose backward is the last to read it (backward runs in reverse node order,
   * so the smallest such node), after which it is given back.
   */
  private record StepProgram(
      boolean training, int[] slot, boolean[] runs, int[] forwardReads, boolean[] keep,
      int[] segmentOf, int[] segmentEndingAt, int[] lastBackwardUse) {}

  private StepProgram program(boolean training) {
    int key = training ? 1 : 0;
    if (programs[key] == null) {
      programs[key] = buildProgram(training);
    }
    return programs[key];
  }

  private StepProgram buildProgram(boolean training) {
    int count = layers.length;
    int[] slot = new int[count];
    boolean[] runs = new boolean[count];
    for (int i = 0; i < count; i++) {
      runs[i] = absorbedBy[i] < 0 && (training || foldedInto[i] < 0);
    }
    for (int i = 0; i < count; i++) {
      int s = i;
      while (!runs[s]) {
        s = absorbedBy[s] >= 0 ? absorbedBy[s] : foldedInto[s];
      }
      slot[i] = s;
    }
    int[] segmentOf = new int[count];
    int[] segmentEndingAt = new int[count];
    Arrays.fill(segmentOf, -1);
    Arrays.fill(segmentEndingAt, -1);
    if (training) {
      List<RecomputeSchedule.Segment> segs = recompute.segments();
      for (int g = 0; g < segs.size(); g++) {
        for (int i = segs.get(g).first(); i <= segs.get(g).last(); i++) {
          segmentOf[i] = g;
        }
        segmentEndingAt[segs.get(g).last()] = g;
      }
    }
    int[] forwardReads = new int[count];
    boolean[] keep = new boolean[count];
    int[] lastBackwardUse = new int[count];
    Arrays.fill(lastBackwardUse, Integer.MAX_VALUE);
    for (int k = 0; k < count; k++) {
      if (!runs[k]) {
        continue;
      }
      for (int j : sources[k]) {
        if (j < 0) {
          continue;
        }
        int s = slot[j];
        forwardReads[s]++;
        if (!training) {
          continue;
        }
        int sk = segmentOf[k];
        // A recomputed segment reads it from outside: a checkpoint. A kept node whose backward
        // reads its input runs before any recomputation of the producer could.
        if (sk >= 0 && sk != segmentOf[s] || sk < 0 && needsInput(k)) {
          keep[s] = true;
        }
        if (sk >= 0 || needsInput(k)) {
          // Read again by k's recomputation or by k's backward.
          lastBackwardUse[s] = Math.min(lastBackwardUse[s], k);
        }
      }
      if (training && segmentOf[k] < 0 && needsOutput(k)) {
        keep[k] = true;
      }
      if (training && needsOutput(k)) {
        lastBackwardUse[k] = Math.min(lastBackwardUse[k], k);
      }
    }
    keep[slot[outputNode]] = true;
    return new StepProgram(training, slot, runs, forwardReads, keep, segmentOf, segmentEndingAt, lastBackwardUse);
  }

  /** Whether node {@code k}'s backward reads the data of its inputs (not only their shapes). */
  private boolean needsInput(int k) {
    return switch (layers[k]) {
      case Conv2d c -> true;
      case Dense d -> true;
      case BatchNorm2d b -> true;
      case Activation a -> a.kind() == Op.RELU || a.kind() == Op.LEAKY_RELU;
      case Pool2d p -> false; // max pooling keeps its argmax; both read only the batch size
      case GlobalAvgPool g -> false;
      case Dropout d -> false; // keeps its mask
      case Flatten f -> false;
      case Add a -> false;
      case Concat c -> false;
    };
  }

  /** Whether node {@code k}'s backward reads its own output's data (a fused ReLU masks with it). */
  private boolean needsOutput(int k) {
    return switch (layers[k]) {
      case Conv2d c -> c.fusedActivation() != FusedActivation.IDENTITY;
      case Dense d -> d.fusedActivation() != FusedActivation.IDENTITY;
      case BatchNorm2d b -> b.fusedActivation() != FusedActivation.IDENTITY;
      case Add a -> a.fusedActivation() != FusedActivation.IDENTITY;
      case Activation a -> a.kind() == Op.SIGMOID || a.kind() == Op.TANH;
      default -> false;
    };
  }

  /**
   * Runs the network on x (N, C, H, W) and returns the logits (N, classes), a view owned by the
   * network that stays valid until the next forward. Training mode uses batch statistics and
   * dropout and keeps what backward needs (less what the {@link RecomputeSchedule} recomputes);
   * evaluation frees each activation once its readers have run.
   */
  public Tensor forward(Tensor x, boolean training) {
    int[] expect = spec.inputShape();
    int[] got = x.shape();
    if (got.length != expect.length + 1 || !Arrays.equals(Arrays.copyOfRange(got, 1, got.length), expect)) {
      throw new IllegalArgumentException(
          "input " + Arrays.toString(got) + " does not match (N, " + Arrays.toString(expect) + ")");
    }
    int n = x.dim(0);
    releaseStep();
    ensureCapacity(n, training);
    batch = n;
    input = x;
    forwardWasTraining = training;
    long seedNow = stepSeedSet ? stepSeed : Rng.mix(seed, forwardCount);
    forwardCount++;
    stepSeedSet = false;
    lastForwardFolded = false;
    StepProgram p = program(training);
    for (int i = 0; i < layers.length; i++) {
      if (layers[i] instanceof Dropout d) {
        d.setSeed(Rng.mix(seedNow, i));
      }
    }
    int[] reads = p.forwardReads().clone();
    for (int i = 0; i < layers.length; i++) {
      if (!p.runs()[i]) {
        continue;
      }
      holdOutput(i);
      // In evaluation a convolution that folds its batchnorm writes the batchnorm's value.
      lastForwardFolded |= !training && foldTarget[i] >= 0;
      long started = clock.getAsLong();
      layers[i].forward(inputsOf(p, i), outputViews[i], training);
      forwardNanos[i] += clock.getAsLong() - started;
      if (!training) {
        releaseConverted(i);
      }
      for (int j : sources[i]) {
        if (j >= 0 && --reads[p.slot()[j]] == 0 && !p.keep()[p.slot()[j]]) {
          releaseOutput(p.slot()[j]);
        }
      }
      if (reads[i] == 0 && !p.keep()[i]) {
        releaseOutput(i);
      }
    }
    return outputViews[p.slot()[outputNode]].reshape(n, spec.classes());
  }

  private Tensor[] inputsOf(StepProgram p, int i) {
    Tensor[] in = new Tensor[sources[i].length];
    for (int k = 0; k < in.length; k++) {
      in[k] = sources[i][k] < 0 ? input : outputViews[p.slot()[sources[i][k]]];
      if (converts(i, k, in[k])) {
        if (convertedOwners[i][k] == null) {
          Tensor[] b = takeBuffer(sourceShape(i, k), layouts[i]);
          LayoutConversion.convert(in[k], b[1]);
          convertedOwners[i][k] = b[0];
          convertedViews[i][k] = b[1];
        }
        in[k] = convertedViews[i][k];
      }
    }
    return in;
  }

  /**
   * Runs segment {@code g}'s forward again from the tensors it reads (kept since forward), holding
   * what its nodes' backward needs; batchnorm running statistics are put back afterwards so the
   * step updates them once, and dropout reuses the seed it drew its masks from.
   */
  private void recomputeSegment(StepProgram p, int g) {
    RecomputeSchedule.Segment seg = recompute.segments().get(g);
    int[] reads = new int[layers.length];
    boolean[] needed = new boolean[layers.length];
    for (int k = seg.first(); k <= seg.last(); k++) {
      if (!p.runs()[k]) {
        continue;
      }
      needed[k] |= needsOutput(k);
      for (int j : sources[k]) {
        if (j >= 0 && p.segmentOf()[p.slot()[j]] == g) {
          reads[p.slot()[j]]++;
          needed[p.slot()[j]] |= needsInput(k);
        }
      }
    }
    for (int k = seg.first(); k <= seg.last(); k++) {
      if (!p.runs()[k]) {
        continue;
      }
      boolean held = outputOwners[k] != null;
      holdOutput(k);
      List<float[]> statistics = new ArrayList<>();
      for (Tensor t : layers[k].buffers().values()) {
        statistics.add(t.toFloatArray());
      }
      long started = clock.getAsLong();
      layers[k].forward(inputsOf(p, k), outputViews[k], true);
      recomputeNanos[k] += clock.getAsLong() - started;
      int b = 0;
      for (Tensor t : layers[k].buffers().values()) {
        t.copyFrom(statistics.get(b++));
      }
      for (int j : sources[k]) {
        int s = j < 0 ? -1 : p.slot()[j];
        if (s >= 0 && p.segmentOf()[s] == g && --reads[s] == 0 && !needed[s] && !p.keep()[s]) {
          releaseOutput(s);
        }
      }
      if (!held && reads[k] == 0 && !needed[k] && !p.keep()[k]) {
        releaseOutput(k);
      }
    }
  }

  /**
   * Back-propagates {@code gradOutput} (N, classes), the gradient of the loss by the logits of
   * the latest forward, and overwrites every parameter's gradient. Each activation gradient lives
   * from its first writer to its node's backward; each activation is given back after the last
   * backward that reads it (its own, or a reader's); recomputed segments run again just before
   * backward enters them.
   */
  public void backward(Tensor gradOutput) {
    if (input == null) {
      throw new IllegalStateException("backward before forward");
    }
    if (lastForwardFolded) {
      throw new IllegalStateException(
          "backward after an evaluation forward that folded batchnorm into convolutions; run a training forward first");
    }
    if (!forwardWasTraining) {
      throw new IllegalStateException(
          "backward after an evaluation forward, which keeps no activations; run a training forward first");
    }
    StepProgram p = program(true);
    Tensor logits = outputViews[p.slot()[outputNode]];
    if (gradOutput.numel() != logits.numel()) {
      throw new IllegalArgumentException(
          "gradient " + gradOutput + " does not match the logits " + logits);
    }
    holdGradient(outputNode);
    gradViews[outputNode].copyFrom(gradOutput);
    Tensor[] scratchOwners = new Tensor[MAX_INPUTS_HINT];
    for (int i = layers.length - 1; i >= 0; i--) {
      if (p.segmentEndingAt()[i] >= 0) {
        recomputeSegment(p, p.segmentEndingAt()[i]);
      }
      if (gradOwners[i] == null) {
        continue; // nothing downstream reached this node
      }
      if (absorbedBy[i] >= 0) {
        // The producer shares this gradient and differentiates the ReLU itself.
        int producer = absorbedBy[i];
        gradOwners[producer] = gradOwners[i];
        gradViews[producer] = gradViews[i];
        gradOwners[i] = null;
        gradViews[i] = null;
        continue;
      }
      int inputs = sources[i].length;
      if (scratchOwners.length < inputs) {
        scratchOwners = new Tensor[inputs];
      }
      Tensor[] gradIn = new Tensor[inputs];
      Tensor[] inputViews = inputsOf(p, i);
      Tensor[] convertedGrads = null;
      for (int k = 0; k < inputs; k++) {
        int j = sources[i][k];
        if (j < 0) {
          continue;
        }
        if (convertedOwners[i][k] != null) {
          // The node differentiates in its own layout; the gradient goes back converted below.
          convertedGrads = convertedGrads == null ? new Tensor[inputs] : convertedGrads;
          Tensor[] b = takeBuffer(sourceShape(i, k), layouts[i]);
          convertedGrads[k] = b[0];
          gradIn[k] = b[1];
          continue;
        }
        if (gradOwners[j] == null) {
          holdGradient(j);
          gradIn[k] = gradViews[j];
        } else {
          // A later reader already wrote this gradient: add this one after, in a fixed order.
          Tensor[] b = takeBuffer(j);
          scratchOwners[k] = b[0];
          gradIn[k] = b[1];
        }
      }
      long started = clock.getAsLong();
      layers[i].backward(inputViews, outputViews[i], gradViews[i], gradIn);
      for (int k = 0; convertedGrads != null && k < inputs; k++) {
        if (convertedGrads[k] == null) {
          continue;
        }
        int j = sources[i][k];
        if (gradOwners[j] == null) {
          holdGradient(j);
          LayoutConversion.convert(gradIn[k], gradViews[j]);
        } else {
          Tensor[] b = takeBuffer(j);
          LayoutConversion.convert(gradIn[k], b[1]);
          addInto(gradViews[j], b[1]);
          pool.give(b[0]);
        }
        pool.give(convertedGrads[k]);
      }
      releaseConverted(i);
      for (int k = 0; k < inputs; k++) {
        if (scratchOwners[k] != null) {
          addInto(gradViews[sources[i][k]], gradIn[k]);
          pool.give(scratchOwners[k]);
          scratchOwners[k] = null;
        }
      }
      backwardNanos[i] += clock.getAsLong() - started;
      pool.give(gradOwners[i]);
      gradOwners[i] = null;
      gradViews[i] = null;
      for (int j : sources[i]) {
        if (j >= 0 && p.lastBackwardUse()[p.slot()[j]] == i && p.slot()[j] != p.slot()[outputNode]) {
          releaseOutput(p.slot()[j]);
        }
      }
      if (i != p.slot()[outputNode]) {
        releaseOutput(i); // no backward reads a node's output after its own
      }
    }
    // Unreached branches: their activations are no longer needed either (the logits stay).
    for (int s = 0; s < outputOwners.length; s++) {
      if (s != p.slot()[outputNode]) {
        releaseOutput(s);
      }
    }
  }

  private void holdGradient(int node) {
    Tensor[] b = takeBuffer(node);
    gradOwners[node] = b[0];
    gradViews[node] = b[1];
  }

  /**
   * Time spent per node since the last {@link #resetLayerTimes()}, for EXPLAIN ANALYZE and tuning:
   * forward, backward, and forward again in backward when a {@link RecomputeSchedule} recomputes it.
   */
  public record LayerTime(String node, Op op, long forwardNanos, long backwardNanos, long recomputeNanos) {}

  /** Wall time per node (forward, backward) accumulated since the last reset, in node order. */
  public List<LayerTime> layerTimes() {
    List<LayerTime> out = new ArrayList<>(layers.length);
    for (int i = 0; i < layers.length; i++) {
      out.add(new LayerTime(layers[i].name(), spec.nodes().get(i).op(), forwardNanos[i], backwardNanos[i],
          recomputeNanos[i]));
    }
    return out;
  }

  /**
   * Makes {@link #layerTimes()} count CPU time of the calling thread instead of wall time: with one
   * kernel thread that is the layer's own work, undisturbed by other processes on a loaded machine
   * (benchmarks use it; EXPLAIN ANALYZE keeps wall time).
   */
  public void useThreadCpuClock(boolean cpu) {
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    clock = cpu ? bean::getCurrentThreadCpuTime : System::nanoTime;
  }

  public void resetLayerTimes() {
    Arrays.fill(forwardNanos, 0);
    Arrays.fill(backwardNanos, 0);
    Arrays.fill(recomputeNanos, 0);
  }

  private static void addInto(Tensor dst, Tensor src) {
    ElementwiseKernels.addInto(dst.segment(), src.segment(), 0, dst.numel());
  }

  /** Whether the latest forward ran in training mode. */
  public boolean lastForwardTraining() {
    return forwardWasTraining;
  }

  /** Trainable parameters in state-dict order. */
  public List<Parameter> parameters() {
    List<Parameter> out = new ArrayList<>();
    for (Layer l : layers) {
      out.addAll(l.parameters());
    }
    return out;
  }

  /** Every tensor saved with the model (parameters and buffers), by name, in state-dict order. */
  private LinkedHashMap<String, Tensor> stateTensors() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    for (Layer l : layers) {
      for (Parameter p : l.parameters()) {
        out.put(p.name(), p.value());
      }
      out.putAll(l.buffers());
    }
    return out;
  }

  /** A copy of every parameter and buffer, named and ordered as PyTorch's state dict. */
  public LinkedHashMap<String, float[]> stateDict() {
    LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
    stateTensors().forEach((k, v) -> out.put(k, v.toFloatArray()));
    return out;
  }

  /** The shape of every state-dict entry: conv weight (out, in/groups, kh, kw), dense weight (out, in). */
  public LinkedHashMap<String, int[]> shapes() {
    LinkedHashMap<String, int[]> out = new LinkedHashMap<>();
    stateTensors().forEach((k, v) -> out.put(k, v.shape()));
    return out;
  }

  /** Replaces every parameter and buffer; the names and sizes must match this network exactly. */
  public void loadStateDict(Map<String, float[]> state) {
    LinkedHashMap<String, Tensor> mine = stateTensors();
    for (Map.Entry<String, Tensor> e : mine.entrySet()) {
      float[] v = state.get(e.getKey());
      if (v == null) {
        throw new UserException("the saved weights lack " + e.getKey());
      }
      if (v.length != e.getValue().numel()) {
        throw new UserException(
            "the saved " + e.getKey() + " has " + v.length + " values, the model needs "
                + e.getValue().numel() + " (shape " + Arrays.toString(e.getValue().shape()) + ")");
      }
    }
    for (String k : state.keySet()) {
      if (!mine.containsKey(k)) {
        throw new UserException("the saved weights hold " + k + ", which this model does not have");
      }
    }
    mine.forEach((k, t) -> t.copyFrom(state.get(k)));
  }

  /** Number of trainable values. */
  public long parameterCount() {
    long n = 0;
    for (Parameter p : parameters()) {
      n += p.value().numel();
    }
    return n;
  }

  /** Per-sample output shape of the named node (or of the input). */
  public int[] outputShape(String node) {
    int[] s = spec.shapes().get(node);
    if (s == null) {
      throw new UserException("the model has no layer named " + node);
    }
    return s;
  }

  /** Bytes of the activations a training forward keeps for backward: every node's output, and the input. */
  public long activationBytes(int batch) {
    long floats = numel(spec.inputShape());
    for (int[] s : shapes) {
      floats += numel(s);
    }
    return floats * Float.BYTES * batch;
  }

  private void closeActivations() {
    releaseStep();
    pool.clear();
    programs[0] = null;
    programs[1] = null;
  }

  /** Frees all weights, activations and workspaces. */
  @Override
  public void close() {
    closeActivations();
    for (Layer l : layers) {
      if (l != null) {
        l.close();
      }
    }
    convWorkspace.close();
  }
}
