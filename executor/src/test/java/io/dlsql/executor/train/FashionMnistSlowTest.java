package io.dlsql.executor.train;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dlsql.executor.arch.Architectures;
import io.dlsql.executor.graph.Network;
import java.io.DataInputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The anchor run, one epoch: the convnet on Fashion-MNIST must reach 85% test accuracy. */
@Tag("slow")
class FashionMnistSlowTest {
  private static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");

  private static byte[] idx(String file) throws IOException {
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(DATA.resolve(file))))) {
      int dims = in.readInt() & 0xFF;
      long count = 1;
      for (int d = 0; d < dims; d++) {
        count *= in.readInt();
      }
      byte[] out = new byte[Math.toIntExact(count)];
      in.readFully(out);
      return out;
    }
  }

  private static InMemoryDataset load(String images, String labels) throws IOException {
    byte[] pixels = idx(images);
    byte[] raw = idx(labels);
    int[] y = new int[raw.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = raw[i];
    }
    MemorySegment segment = Arena.ofAuto().allocate(pixels.length);
    MemorySegment.copy(MemorySegment.ofArray(pixels), 0, segment, 0, pixels.length);
    return InMemoryDataset.ofUint8(segment, y.length, new int[] {1, 28, 28}, y, InMemoryDataset.UINT8_TO_UNIT);
  }

  @Test
  void convnetReachesEightyFivePercentInOneEpoch() throws IOException {
    assumeTrue(Files.isDirectory(DATA), "Fashion-MNIST is not installed at " + DATA);
    InMemoryDataset train = load("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
    InMemoryDataset test = load("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
    TrainOptions opts = TrainOptions.fromMap(Map.of(
        "epochs", 1, "batch_size", 128, "learning_rate", 0.05, "momentum", 0.9, "seed", 42));
    try (Network net = Network.build(Architectures.build("convnet", Map.of(), new int[] {1, 28, 28}, 10), 42)) {
      TrainResult r = new Trainer().fit(net, train, null, opts, null, null, null);
      EvaluationResult e = Evaluator.evaluate(net, test);
      System.out.printf("convnet 1 epoch: %.1f images/s training, loss %.4f, test accuracy %.4f, peak %d MB%n",
          r.history().get(0).imagesPerSec(), r.history().get(0).trainLoss(), e.accuracy(),
          r.history().get(0).peakMemoryBytes() >> 20);
      assertTrue(e.accuracy() > 0.85, "test accuracy " + e.accuracy());
    }
  }
}
