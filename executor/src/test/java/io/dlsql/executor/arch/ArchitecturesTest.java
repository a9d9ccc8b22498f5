package io.dlsql.executor.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArchitecturesTest {
  private static final int[] FASHION = {1, 28, 28};

  @Test
  void convnetIsTheAnchor() {
    NetworkSpec spec = Architectures.build("convnet", Map.of(), FASHION, 10);
    try (Network net = Network.build(spec, 0)) {
      // conv1 1*32*25+32, conv2 32*64*25+64, fc1 3136*1024+1024, fc2 1024*10+10
      assertEquals(832 + 51264 + 3212288 + 10250, net.parameterCount());
      assertArrayEquals(new int[] {64, 7, 7}, net.outputShape("pool2"));
    }
  }

  @Test
  void resnet20MatchesTheAnchorScript() {
    NetworkSpec spec = Architectures.build("ResNet", Map.of("depth", 20), FASHION, 10);
    try (Network net = Network.build(spec, 0)) {
      // torch_fashion.py ResNet20(cin=1): sum of p.numel() for p in model.parameters()
      assertEquals(272_186, net.parameterCount());
      assertArrayEquals(new int[] {64, 7, 7}, net.outputShape("layer3.2.relu2"));
      assertTrue(net.shapes().containsKey("layer2.0.shortcut.1.running_var"));
      assertArrayEquals(new int[] {32, 16, 1, 1}, net.shapes().get("layer2.0.shortcut.0.weight"));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"convnet", "lenet5", "vgg", "resnet", "mobilenet", "wrn"})
  void everyArchitectureRunsOnSeveralInputShapes(String name) {
    for (int[] shape : new int[][] {{1, 28, 28}, {3, 32, 32}, {3, 9, 7}, {2, 3, 3}}) {
      if (name.equals("lenet5") && shape[1] < 12) {
        continue;
      }
      NetworkSpec spec = Architectures.build(name, name.equals("wrn") ? Map.of("width", 1) : Map.of(), shape, 7);
      try (Network net = Network.build(spec, 1); Tensor x = Tensor.zeros(2, shape[0], shape[1], shape[2])) {
        Tensor logits = net.forward(x, false);
        assertArrayEquals(new int[] {2, 7}, logits.shape());
      }
    }
  }

  @Test
  void rejectsUnknownNamesAndParameters() {
    assertEquals("unknown architecture alexnet; known: convnet, lenet5, vgg, resnet, mobilenet, wrn",
        assertThrows(UserException.class, () -> Architectures.build("alexnet", Map.of(), FASHION, 10)).getMessage());
    assertEquals("unknown parameter layers for resnet; known: depth, width",
        assertThrows(UserException.class, () -> Architectures.build("resnet", Map.of("layers", 3), FASHION, 10)).getMessage());
    assertEquals("resnet depth must be 6n+2 (20, 32, 44, 56, 110...), got 21",
        assertThrows(UserException.class, () -> Architectures.build("resnet", Map.of("depth", 21), FASHION, 10)).getMessage());
    assertThrows(UserException.class, () -> Architectures.build("wrn", Map.of("depth", "deep"), FASHION, 10));
  }
}
