package io.dlsql.executor.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.loss.SoftmaxCrossEntropy;
import io.dlsql.executor.optim.Sgd;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The executor against PyTorch (float64) on the anchor convnet (dropout off) and ResNet-20 in
 * train mode: logits, loss, every gradient and the batchnorm running statistics after one batch
 * agree to 1e-4 relative (to the largest magnitude of each tensor); the losses of 50 SGD steps
 * agree to 2%. Fixtures come from src/test/python/make_fixtures.py.
 */
class PyTorchFixtureTest {
  private static final double TENSOR_TOL = 1e-4;
  private static final double LOSS_CURVE_TOL = 0.02;
  private static final int BATCH = 8;

  /** One fixture: generated initial weights, stored arrays, gradient samples. */
  private record Fixture(
      LinkedHashMap<String, float[]> init,
      Map<String, ByteBuffer> data,
      Map<String, long[]> samples,
      Map<String, Double> norms,
      Map<String, Double> meta) {
    float[] floats(String name) {
      ByteBuffer b = data.get(name).duplicate().order(ByteOrder.LITTLE_ENDIAN);
      float[] out = new float[b.remaining() / Float.BYTES];
      b.asFloatBuffer().get(out);
      return out;
    }

    int[] ints(String name) {
      ByteBuffer b = data.get(name).duplicate().order(ByteOrder.LITTLE_ENDIAN);
      int[] out = new int[b.remaining() / Integer.BYTES];
      b.asIntBuffer().get(out);
      return out;
    }
  }

  private static Fixture load(String model) throws IOException {
    LinkedHashMap<String, float[]> init = new LinkedHashMap<>();
    Map<String, ByteBuffer> data = new LinkedHashMap<>();
    Map<String, long[]> samples = new LinkedHashMap<>();
    Map<String, Double> norms = new LinkedHashMap<>();
    Map<String, Double> meta = new LinkedHashMap<>();
    ByteBuffer bin;
    try (InputStream in = PyTorchFixtureTest.class.getResourceAsStream("/fixtures/" + model + ".bin")) {
      bin = ByteBuffer.wrap(in.readAllBytes());
    }
    try (BufferedReader index = new BufferedReader(new InputStreamReader(
        PyTorchFixtureTest.class.getResourceAsStream("/fixtures/" + model + ".index"), StandardCharsets.UTF_8))) {
      int offset = 0;
      for (String line = index.readLine(); line != null; line = index.readLine()) {
        String[] f = line.split(" ");
        switch (f[0]) {
          case "meta" -> meta.put(f[1], Double.parseDouble(f[2]));
          case "uniform" -> {
            int count = Arrays.stream(f[3].split(",")).mapToInt(Integer::parseInt).reduce(1, (a, b) -> a * b);
            Rng rng = new Rng(Long.parseLong(f[4]));
            double lo = Double.parseDouble(f[5]);
            double hi = Double.parseDouble(f[6]);
            float[] v = new float[count];
            for (int i = 0; i < count; i++) {
              v[i] = lo == hi ? (float) lo : (float) (lo + (hi - lo) * (double) rng.nextFloat());
            }
            init.put(f[1], v);
          }
          case "data", "sample" -> {
            int elements = f[0].equals("sample")
                ? Integer.parseInt(f[5])
                : Arrays.stream(f[3].split(",")).mapToInt(Integer::parseInt).reduce(1, (a, b) -> a * b);
            int bytes = elements * (f[2].equals("u8") ? 1 : 4);
            data.put(f[1], bin.slice(offset, bytes));
            offset += bytes;
            if (f[0].equals("sample")) {
              samples.put(f[1], new long[] {Long.parseLong(f[4]), elements});
              norms.put(f[1], Double.parseDouble(f[6]));
            }
          }
          default -> throw new IllegalStateException("bad fixture line " + line);
        }
      }
    }
    return new Fixture(init, data, samples, norms, meta);
  }

  private static NetworkSpec spec(String model) {
    return model.equals("convnet")
        ? Architectures.build("convnet", Map.of("dropout", 0.0), new int[] {1, 28, 28}, 10)
        : Architectures.build("resnet", Map.of("depth", 20), new int[] {1, 28, 28}, 10);
  }

  /** Images [from, from + BATCH) of the fixture's training data, scaled by 1/255. */
  private static Tensor batch(Fixture f, int from) {
    ByteBuffer images = f.data().get("train.images");
    int size = 28 * 28;
    Tensor x = Tensor.zeros(BATCH, 1, 28, 28);
    for (int i = 0; i < BATCH * size; i++) {
      x.setFlat(i, (images.get((from * size) + i) & 0xFF) / 255f);
    }
    return x;
  }

  /** max |actual - expected| / max |expected|. */
  private static double relativeError(float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length);
    double err = 0;
    double scale = 0;
    for (int i = 0; i < expected.length; i++) {
      err = Math.max(err, Math.abs(actual[i] - expected[i]));
      scale = Math.max(scale, Math.abs(expected[i]));
    }
    return err / scale;
  }

  @ParameterizedTest
  @ValueSource(strings = {"convnet", "resnet20"})
  void oneTrainingBatchMatchesPyTorch(String model) throws IOException {
    Fixture f = load(model);
    try (Network net = Network.build(spec(model), 0);
        Tensor x = batch(f, 0);
        Tensor grad = Tensor.zeros(BATCH, 10)) {
      assertEquals(net.stateDict().keySet(), f.init().keySet(), "same parameter names as PyTorch");
      net.loadStateDict(f.init());
      int[] labels = Arrays.copyOf(f.ints("train.labels"), BATCH);
      Tensor logits = net.forward(x, true);
      double loss = new SoftmaxCrossEntropy(0).forward(logits, labels, BATCH, grad);
      assertTrue(relativeError(f.floats("logits"), logits.toFloatArray()) <= TENSOR_TOL, "logits");
      assertEquals(f.floats("loss")[0], loss, TENSOR_TOL * loss, "loss");
      net.backward(grad);
      int checked = 0;
      for (Parameter p : net.parameters()) {
        String key = "grad." + p.name();
        float[] mine = p.grad().toFloatArray();
        float[] theirs = f.floats(key);
        long[] sample = f.samples().get(key);
        if (sample != null) {
          float[] picked = new float[(int) sample[1]];
          double sq = 0;
          for (int i = 0; i < picked.length; i++) {
            picked[i] = mine[(int) (i * sample[0])];
          }
          for (float v : mine) {
            sq += (double) v * v;
          }
          mine = picked;
          double norm = f.norms().get(key);
          assertEquals(norm, Math.sqrt(sq), TENSOR_TOL * norm, key + " norm");
        }
        double err = relativeError(theirs, mine);
        assertTrue(err <= TENSOR_TOL, key + ": relative error " + err);
        checked++;
      }
      assertEquals(net.parameters().size(), checked);
      net.stateDict().forEach((name, value) -> {
        if (name.endsWith("running_mean") || name.endsWith("running_var")) {
          double err = relativeError(f.floats("after." + name), value);
          assertTrue(err <= TENSOR_TOL, name + ": relative error " + err);
        }
      });
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"convnet", "resnet20"})
  void fiftySgdStepsFollowPyTorchsLossCurve(String model) throws IOException {
    Fixture f = load(model);
    float[] expected = f.floats("sgd.losses");
    int[] allLabels = f.ints("train.labels");
    int batches = allLabels.length / BATCH;
    SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0);
    try (Network net = Network.build(spec(model), 0);
        Tensor grad = Tensor.zeros(BATCH, 10);
        Sgd sgd = new Sgd(f.meta().get("momentum"), false, 0)) {
      net.loadStateDict(f.init());
      Tensor[] inputs = new Tensor[batches];
      for (int b = 0; b < batches; b++) {
        inputs[b] = batch(f, b * BATCH);
      }
      for (int step = 0; step < expected.length; step++) {
        int b = step % batches;
        int[] labels = Arrays.copyOfRange(allLabels, b * BATCH, (b + 1) * BATCH);
        double l = loss.forward(net.forward(inputs[b], true), labels, BATCH, grad);
        net.backward(grad);
        sgd.step(net.parameters(), f.meta().get("lr"));
        assertEquals(expected[step], l, LOSS_CURVE_TOL * expected[step], "step " + step);
      }
      for (Tensor t : inputs) {
        t.close();
      }
    }
  }
}
