package io.dlsql.executor.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.graph.NetworkSpecBuilder;
import io.dlsql.executor.layer.Parameter;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.InMemoryDataset;
import io.dlsql.executor.train.TrainOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DistillationTest {
  private static final Distillation.Options OPTIONS = new Distillation.Options(3, 0.7);

  @Test
  void lossMatchesItsDefinitionAndItsGradientMatchesFiniteDifferences() {
    Rng rng = new Rng(1);
    int n = 3, k = 5;
    float[] s = new float[n * k];
    float[] t = new float[n * k];
    for (int i = 0; i < s.length; i++) {
      s[i] = (float) rng.uniform(-3, 3);
      t[i] = (float) rng.uniform(-3, 3);
    }
    int[] labels = {0, 4, 2};
    float[] grad = new float[n * k];
    double loss = Distillation.loss(s, t, labels, n, k, OPTIONS, grad);
    // Straight from the definition, in double.
    double expected = 0;
    for (int r = 0; r < n; r++) {
      double[] p = softmax(s, r, k, 1);
      double[] qs = softmax(s, r, k, OPTIONS.temperature());
      double[] qt = softmax(t, r, k, OPTIONS.temperature());
      double kl = 0;
      for (int j = 0; j < k; j++) {
        kl += qt[j] * Math.log(qt[j] / qs[j]);
      }
      expected += (1 - OPTIONS.alpha()) * -Math.log(p[labels[r]])
          + OPTIONS.alpha() * OPTIONS.temperature() * OPTIONS.temperature() * kl;
    }
    assertEquals(expected / n, loss, 1e-9);
    double h = 1e-2;
    for (int i = 0; i < s.length; i++) {
      float keep = s[i];
      s[i] = keep + (float) h;
      double up = Distillation.loss(s, t, labels, n, k, OPTIONS, null);
      s[i] = keep - (float) h;
      double down = Distillation.loss(s, t, labels, n, k, OPTIONS, null);
      s[i] = keep;
      assertEquals((up - down) / (2 * h), grad[i], 2e-4, "logit " + i);
    }
    // Identical logits and alpha = 1: zero loss and zero gradient.
    double same = Distillation.loss(t, t, labels, n, k, new Distillation.Options(2, 1), grad);
    assertEquals(0, same, 1e-9);
    for (float g : grad) {
      assertEquals(0, g, 1e-7);
    }
  }

  private static double[] softmax(float[] z, int r, int k, double t) {
    double[] out = new double[k];
    double sum = 0;
    for (int j = 0; j < k; j++) {
      out[j] = Math.exp(z[r * k + j] / t);
      sum += out[j];
    }
    for (int j = 0; j < k; j++) {
      out[j] /= sum;
    }
    return out;
  }

  private static NetworkSpec tinyStudent() {
    return new NetworkSpecBuilder().input("image", new int[] {1, 4, 4})
        .layer("CONV2D", List.of(2), Map.of("KERNEL", 3, "PADDING", 1), null)
        .layer("TANH", List.of(), Map.of(), null)
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(3), Map.of(), null)
        .build(3);
  }

  private static NetworkSpec tinyTeacher() {
    return new NetworkSpecBuilder().input("image", new int[] {1, 4, 4})
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(6), Map.of(), null)
        .layer("TANH", List.of(), Map.of(), null)
        .layer("DENSE", List.of(3), Map.of(), null)
        .build(3);
  }

  private static double distillLoss(Network student, Network teacher, Tensor x, int[] labels, Tensor grad) {
    int n = x.dim(0);
    float[] s = student.forward(x, true).toFloatArray();
    float[] t = teacher.forward(x, false).toFloatArray();
    float[] g = grad == null ? null : new float[s.length];
    double l = Distillation.loss(s, t, labels, n, 3, OPTIONS, g);
    if (grad != null) {
      grad.copyFrom(g);
    }
    return l;
  }

  @Test
  void studentParameterGradientsMatchFiniteDifferences() {
    int[] labels = {2, 0, 1, 1};
    try (Network student = Network.build(tinyStudent(), 5);
        Network teacher = Network.build(tinyTeacher(), 6);
        Tensor x = Fixtures.randomInput(4, new int[] {1, 4, 4}, 7);
        Tensor grad = Tensor.zeros(4, 3)) {
      distillLoss(student, teacher, x, labels, grad);
      student.backward(grad);
      double h = 1e-2;
      for (Parameter p : student.parameters()) {
        float[] analytic = p.grad().toFloatArray();
        for (int i = 0; i < p.value().numel(); i += 3) {
          float keep = p.value().getFlat(i);
          p.value().setFlat(i, keep + (float) h);
          double up = distillLoss(student, teacher, x, labels, null);
          p.value().setFlat(i, keep - (float) h);
          double down = distillLoss(student, teacher, x, labels, null);
          p.value().setFlat(i, keep);
          double numeric = (up - down) / (2 * h);
          assertEquals(numeric, analytic[i], 2e-3 * (1 + Math.abs(numeric)), p.name() + "[" + i + "]");
        }
      }
    }
  }

  @Test
  void aStudentLearnsFromATeacher() {
    InMemoryDataset data = Fixtures.quadrants(256, 1, 4, 3);
    TrainOptions opts = TrainOptions.fromMap(Map.of("epochs", 4, "batch_size", 32, "learning_rate", 0.1,
        "momentum", 0.9, "seed", 4));
    NetworkSpec teacherSpec = new NetworkSpecBuilder().input("image", new int[] {1, 4, 4})
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(16), Map.of(), null)
        .layer("RELU", List.of(), Map.of(), null)
        .layer("DENSE", List.of(4), Map.of(), null)
        .build(4);
    NetworkSpec studentSpec = new NetworkSpecBuilder().input("image", new int[] {1, 4, 4})
        .layer("FLATTEN", List.of(), Map.of(), null)
        .layer("DENSE", List.of(4), Map.of(), null)
        .build(4);
    try (Network teacherNet = Network.build(teacherSpec, 1); Network student = Network.build(studentSpec, 2)) {
      CompressionTrainer.fit(teacherNet, data, opts, CompressionTrainer.crossEntropy(opts), null);
      InferenceModel teacher = InferenceModel.of(teacherNet);
      double teacherAccuracy = Inference.evaluate(teacher, data, 64).accuracy();
      assertTrue(teacherAccuracy > 0.9, "teacher " + teacherAccuracy);
      List<CompressionTrainer.Epoch> history = Distillation.fit(teacher, student, data, opts, OPTIONS);
      assertTrue(history.get(3).loss() < history.get(0).loss(), history.toString());
      // The view is not closed here: the try block owns the student.
      double studentAccuracy = Inference.evaluate(InferenceModel.of(student), data, 64).accuracy();
      assertTrue(studentAccuracy > 0.8, "student " + studentAccuracy + " after " + history);
    }
  }

  @Test
  void mismatchedStudentsAndBadOptionsAreUserErrors() {
    NetworkSpec teacher = tinyTeacher();
    NetworkSpec otherInput = new NetworkSpecBuilder().input("image", new int[] {1, 5, 5})
        .layer("FLATTEN", List.of(), Map.of(), null).layer("DENSE", List.of(3), Map.of(), null).build(3);
    NetworkSpec otherClasses = new NetworkSpecBuilder().input("image", new int[] {1, 4, 4})
        .layer("FLATTEN", List.of(), Map.of(), null).layer("DENSE", List.of(4), Map.of(), null).build(4);
    UserException e = assertThrows(UserException.class, () -> Distillation.checkCompatible(teacher, otherInput));
    assertTrue(e.getMessage().contains("shape"), e.getMessage());
    e = assertThrows(UserException.class, () -> Distillation.checkCompatible(teacher, otherClasses));
    assertTrue(e.getMessage().contains("classes"), e.getMessage());
    assertThrows(UserException.class, () -> new Distillation.Options(0, 0.5));
    assertThrows(UserException.class, () -> new Distillation.Options(2, 1.5));
    assertThrows(UserException.class, () -> Distillation.Options.fromMap(Map.of("alpha", "high")));
    assertEquals(new Distillation.Options(5, 0.5), Distillation.Options.fromMap(Map.of("TEMPERATURE", 5, "alpha", 0.5)));
  }
}
