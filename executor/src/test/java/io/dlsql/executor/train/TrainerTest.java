package io.dlsql.executor.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.Node;
import io.dlsql.executor.graph.Op;
import io.dlsql.executor.graph.Network;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerTest {
  /** A scaled-down anchor convnet: conv, relu, pool, conv, relu, pool, dense, relu, dropout, dense. */
  static NetworkSpec smallConvnet(int size, int classes) {
    List<Node> nodes = new ArrayList<>();
    nodes.add(Node.of("c1", Op.CONV2D, Map.of("out_channels", 4, "kernel", 5, "padding", 2), "image"));
    nodes.add(Node.of("r1", Op.RELU, Map.of(), "c1"));
    nodes.add(Node.of("p1", Op.MAXPOOL2D, Map.of("kernel", 2), "r1"));
    nodes.add(Node.of("c2", Op.CONV2D, Map.of("out_channels", 8, "kernel", 5, "padding", 2), "p1"));
    nodes.add(Node.of("r2", Op.RELU, Map.of(), "c2"));
    nodes.add(Node.of("p2", Op.MAXPOOL2D, Map.of("kernel", 2), "r2"));
    nodes.add(Node.of("f", Op.FLATTEN, Map.of(), "p2"));
    nodes.add(Node.of("d1", Op.DENSE, Map.of("units", 32), "f"));
    nodes.add(Node.of("r3", Op.RELU, Map.of(), "d1"));
    nodes.add(Node.of("drop", Op.DROPOUT, Map.of("p", 0.4), "r3"));
    nodes.add(Node.of("d2", Op.DENSE, Map.of("units", classes), "drop"));
    return new NetworkSpec("image", new int[] {1, size, size}, classes, nodes, "d2");
  }

  @Test
  void convnetLossDecreasesOnLearnableData() {
    Dataset data = SyntheticData.quadrants(256, 1, 12, 1);
    TrainOptions opts = TrainOptions.fromMap(Map.of(
        "epochs", 4, "batch_size", 32, "learning_rate", 0.05, "momentum", 0.9, "seed", 3));
    List<EpochStats> epochs = new ArrayList<>();
    try (Network net = Network.build(smallConvnet(12, 4), 3)) {
      TrainResult r = new Trainer().fit(net, data, null, opts, new TrainListener() {
        @Override
        public void onEpoch(EpochStats stats, TrainState state) {
          epochs.add(stats);
        }
      }, null, null);
      assertEquals(4, r.history().size());
      assertEquals(epochs, r.history());
      assertTrue(epochs.get(3).trainLoss() < epochs.get(0).trainLoss() * 0.7,
          "loss should fall: " + epochs);
      EvaluationResult eval = Evaluator.evaluate(net, data);
      assertTrue(eval.accuracy() > 0.8, "accuracy " + eval.accuracy());
    }
  }

  @Test
  void hugeLearningRateDiverges() {
    Dataset data = SyntheticData.quadrants(64, 1, 12, 2);
    TrainOptions opts = TrainOptions.fromMap(Map.of("epochs", 3, "batch_size", 16, "learning_rate", 1e6));
    try (Network net = Network.build(smallConvnet(12, 4), 1)) {
      var before = net.stateDict();
      TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
          () -> new Trainer().fit(net, data, null, opts, null, null, null));
      assertEquals(0, e.lastGoodEpoch());
      var after = net.stateDict();
      for (String k : before.keySet()) {
        assertTrue(java.util.Arrays.equals(before.get(k), after.get(k)), k + " restored");
      }
    }
  }
}
