package io.dlsql.executor.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NetworkSpecBuilderTest {
  private static NetworkSpecBuilder fashion() {
    return new NetworkSpecBuilder().input("image", new int[] {1, 28, 28});
  }

  private static String error(Runnable r) {
    return assertThrows(UserException.class, r::run).getMessage();
  }

  @Test
  void buildsTheAnchorConvnetFromSqlArguments() {
    NetworkSpec spec = fashion()
        .layer("CONV2D", List.of(32), Map.of("KERNEL", 5, "PADDING", "same"), null)
        .layer("relu", List.of(), Map.of(), null)
        .layer("MAXPOOL", List.of(2), Map.of(), null)
        .layer("Conv2d", List.of(64L), Map.of("kernel", new BigDecimal("5"), "padding", 2), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("MAXPOOL", List.of(2), Map.of(), null)
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(1024), Map.of(), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("DROPOUT", List.of(new BigDecimal("0.4")), Map.of(), null)
        .layer("DENSE", List.of(10), Map.of(), null)
        .build(10);
    assertEquals(11, spec.nodes().size());
    assertEquals("conv1", spec.nodes().get(0).name());
    assertEquals("dense2", spec.outputName());
    assertArrayEquals(new int[] {64, 7, 7}, spec.shapes().get("maxpool2"));
    assertArrayEquals(new int[] {3136}, spec.shapes().get("flatten1"));
  }

  @Test
  void residualConnectionsByAliasAndInputOption() {
    NetworkSpec spec = fashion()
        .layer("CONV2D", List.of(8), Map.of("KERNEL", 3, "PADDING", 1), null)
        .layer("RELU", List.of(), Map.of(), "x")
        .layer("CONV2D", List.of(8), Map.of("KERNEL", 3, "PADDING", 1, "BIAS", false), null)
        .layer("BATCHNORM", List.of(), Map.of("EPS", 1e-3, "MOMENTUM", 0.01), null)
        .layer("ADD", List.of("x"), Map.of(), "sum")
        .layer("CONV2D", List.of(4), Map.of("KERNEL", 1, "INPUT", "x"), "side")
        .layer("CONCAT", List.of("sum"), Map.of(), null)
        .layer("GLOBALAVGPOOL", List.of(), Map.of(), null)
        .layer("DENSE", List.of(), Map.of("UNITS", 10), null)
        .build(10);
    Node add = spec.nodes().get(4);
    assertEquals(List.of("bn1", "x"), add.inputs());
    assertEquals(List.of("x"), spec.nodes().get(5).inputs());
    assertEquals(List.of("side", "sum"), spec.nodes().get(6).inputs());
    assertArrayEquals(new int[] {12, 28, 28}, spec.shapes().get("concat1"));
  }

  @Test
  void reportsUserMistakesWithTheLayer() {
    assertTrue(error(() -> fashion().layer("CONV3D", List.of(), Map.of(), null))
        .contains("unknown layer CONV3D; known layers: CONV2D, BATCHNORM"));
    assertEquals("layer 1 (CONV2D): unknown option UNITS; known options: BIAS, DILATION, GROUPS, KERNEL, OUT_CHANNELS, PADDING, STRIDE",
        error(() -> fashion().layer("CONV2D", List.of(8), Map.of("KERNEL", 3, "UNITS", 4), null)));
    assertEquals("layer 1 (DROPOUT): P must be in [0, 1), got 1.5",
        error(() -> fashion().layer("DROPOUT", List.of(1.5), Map.of(), null)));
    assertEquals("layer 1 (CONV2D): KERNEL must be at least 1, got 0",
        error(() -> fashion().layer("CONV2D", List.of(8), Map.of("KERNEL", 0), null)));
    assertEquals("layer 1 (CONV2D): missing required option KERNEL",
        error(() -> fashion().layer("CONV2D", List.of(8), Map.of(), null)));
    assertEquals("layer 1 (DENSE): missing required option UNITS",
        error(() -> fashion().layer("DENSE", List.of(), Map.of(), null)));
    assertEquals("layer 1 (CONV2D): KERNEL must be an integer or a pair (height, width) of integers, got 'big'",
        error(() -> fashion().layer("CONV2D", List.of(8), Map.of("KERNEL", "big"), null)));
    assertEquals("layer 1 (DENSE): takes at most 1 positional argument(s) (UNITS), got 2",
        error(() -> fashion().layer("DENSE", List.of(1, 2), Map.of(), null)));
    assertEquals("layer 1 (DENSE): UNITS is given both by position and by name",
        error(() -> fashion().layer("DENSE", List.of(10), Map.of("units", 10), null)));
    assertEquals("layer 2 (ADD): unknown alias y; defined so far: image, x",
        error(() -> fashion().layer("RELU", List.of(), Map.of(), "x").layer("ADD", List.of("y"), Map.of(), null)));
    assertEquals("layer 2 (RELU): the name X is already used",
        error(() -> fashion().layer("RELU", List.of(), Map.of(), "x").layer("RELU", List.of(), Map.of(), "X")));
    assertEquals("layer 1 (CONV2D): PADDING must be an integer, a pair, 'same' or 'valid', got 'full'",
        error(() -> fashion().layer("CONV2D", List.of(8), Map.of("KERNEL", 3, "PADDING", "full"), null)));
    assertEquals("layer 1 (CONV2D): GROUPS 3 must divide the output channels 8",
        error(() -> fashion().layer("CONV2D", List.of(8), Map.of("KERNEL", 3, "GROUPS", 3), null)));
    assertEquals("layer 1 (BATCHNORM): unknown option P; known options: EPS, MOMENTUM",
        error(() -> fashion().layer("BATCHNORM", List.of(), Map.of("p", 1), null)));
    assertEquals("the model needs its INPUT before the layers",
        error(() -> new NetworkSpecBuilder().layer("RELU", List.of(), Map.of(), null)));
  }

  @Test
  void reportsShapeMismatchesAtBuild() {
    assertEquals("layer 3 (ADD): shapes (32, 14, 14) and (16, 28, 28) differ",
        error(() -> fashion()
            .layer("CONV2D", List.of(16), Map.of("KERNEL", 3, "PADDING", 1), "a")
            .layer("CONV2D", List.of(32), Map.of("KERNEL", 3, "PADDING", 1, "STRIDE", 2), null)
            .layer("ADD", List.of("a"), Map.of(), null)
            .build(10)));
    assertEquals("layer 5 (MAXPOOL): input 1x1 is smaller than the kernel 2x2",
        error(() -> new NetworkSpecBuilder().input("image", new int[] {1, 8, 8})
            .layer("MAXPOOL", List.of(2), Map.of(), null)
            .layer("MAXPOOL", List.of(2), Map.of(), null)
            .layer("MAXPOOL", List.of(2), Map.of(), null)
            .layer("RELU", List.of(), Map.of(), null)
            .layer("MAXPOOL", List.of(2), Map.of(), null)
            .layer("DENSE", List.of(10), Map.of(), null)
            .build(10)));
    assertEquals("layer 2 (CONV2D): needs an image input (channels, height, width), got shape (10); put it before FLATTEN/DENSE",
        error(() -> fashion().layer("DENSE", List.of(10), Map.of(), null)
            .layer("CONV2D", List.of(3), Map.of("KERNEL", 1), null).build(10)));
    assertEquals("the output layer 2 (DENSE) produces (5) = 5 values but the model has 10 classes; end the model with DENSE(10)",
        error(() -> fashion().layer("FLATTEN", List.of(), Map.of(), null)
            .layer("DENSE", List.of(5), Map.of(), null).build(10)));
    assertEquals("layer 1 (CONV2D): input 28x28 (with padding 0, 0) is smaller than the kernel 29x29",
        error(() -> fashion().layer("CONV2D", List.of(3), Map.of("KERNEL", 29), null).build(10)));
    assertEquals("layer 3 (CONCAT): cannot concatenate (4, 14, 14) and (4, 28, 28) along channels (height and width must match)",
        error(() -> fashion().layer("CONV2D", List.of(4), Map.of("KERNEL", 1), "a")
            .layer("CONV2D", List.of(4), Map.of("KERNEL", 1, "STRIDE", 2), null)
            .layer("CONCAT", List.of("a"), Map.of(), null).build(10)));
  }

  @Test
  void samePaddingKeepsTheSizeAndStrideRoundsUp() {
    NetworkSpec spec = new NetworkSpecBuilder().input("image", new int[] {3, 15, 15})
        .layer("CONV2D", List.of(4), Map.of("KERNEL", 4, "PADDING", "same"), null)
        .layer("CONV2D", List.of(4), Map.of("KERNEL", 3, "PADDING", "same", "STRIDE", 2), null)
        .layer("CONV2D", List.of(4), Map.of("KERNEL", List.of(3, 1), "PADDING", "valid", "DILATION", 2), null)
        .layer("DENSE", List.of(10), Map.of(), null)
        .build(10);
    assertArrayEquals(new int[] {4, 15, 15}, spec.shapes().get("conv1"));
    assertArrayEquals(new int[] {4, 8, 8}, spec.shapes().get("conv2"));
    assertArrayEquals(new int[] {4, 4, 8}, spec.shapes().get("conv3"));
  }
}
