package io.dlsql.executor.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.Network;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WeightStorageTest {
  @Test
  void bf16RoundsToNearestEvenAndKeepsSpecialValues() {
    Rng rng = new Rng(1);
    for (int i = 0; i < 10_000; i++) {
      float f = (float) (rng.nextGaussian() * Math.pow(10, rng.uniform(-5, 5)));
      float back = NarrowWeights.fromBf16(NarrowWeights.toBf16(f));
      // 8 significant bits: the error is at most half a unit in the last place, 2^-8 relative.
      assertTrue(Math.abs(back - f) <= Math.abs(f) * 0x1p-8, f + " -> " + back);
      // Round to nearest: no other bf16 value is closer.
      float up = Math.nextUp(back);
      short bits = NarrowWeights.toBf16(f);
      float next = NarrowWeights.fromBf16((short) (bits + 1));
      float prev = NarrowWeights.fromBf16((short) (bits - 1));
      assertTrue(Math.abs(f - back) <= Math.abs(f - next) && Math.abs(f - back) <= Math.abs(f - prev), f + " " + up);
    }
    // A tie goes to the even mantissa: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7.
    assertEquals(1f, NarrowWeights.fromBf16(NarrowWeights.toBf16(1f + 0x1p-8f)));
    assertEquals(1f + 0x1p-6f, NarrowWeights.fromBf16(NarrowWeights.toBf16(1f + 0x1p-7f + 0x1p-8f)));
    assertTrue(Float.isNaN(NarrowWeights.fromBf16(NarrowWeights.toBf16(Float.NaN))));
    assertEquals(Float.POSITIVE_INFINITY, NarrowWeights.fromBf16(NarrowWeights.toBf16(Float.POSITIVE_INFINITY)));
    assertEquals(-0f, NarrowWeights.fromBf16(NarrowWeights.toBf16(-0f)));
  }

  @Test
  void narrowNetworksMatchFp32Closely() {
    NetworkSpec spec = Fixtures.tinyResnet();
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 2);
    try (Network net = Network.build(spec, 1); Tensor x = Fixtures.randomInput(8, spec.inputShape(), 3)) {
      net.loadStateDict(w);
      float[] expected = net.forward(x, false).toFloatArray();
      for (NarrowWeights.Format f : NarrowWeights.Format.values()) {
        NarrowWeights narrow = NarrowWeights.narrow(w, f);
        assertEquals(ModelSize.fp32Bytes(w) / 2, narrow.size().bytes());
        try (InferenceModel m = narrow.open(spec)) {
          double err = Fixtures.maxAbsDiff(expected, m.forward(x).toFloatArray()) / Fixtures.maxAbs(expected);
          assertTrue(err < (f == NarrowWeights.Format.FP16 ? 2e-3 : 2e-2), f + ": " + err);
        }
      }
    }
  }

  @Test
  void codebookHasAtMostTwoToTheBitsValuesPerLayerAndShrinksTheError() {
    NetworkSpec spec = Fixtures.smallConvnet();
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 4);
    double previous = Double.POSITIVE_INFINITY;
    for (int bits = 1; bits <= 6; bits++) {
      Codebook book = Codebook.quantize(spec, w, bits);
      LinkedHashMap<String, float[]> decoded = book.decode();
      assertEquals(w.keySet(), decoded.keySet());
      double err = 0;
      for (String k : MagnitudePruning.prunableWeights(spec)) {
        Set<Float> distinct = new HashSet<>();
        for (float v : decoded.get(k)) {
          distinct.add(v);
        }
        assertTrue(distinct.size() <= 1 << bits, k + " has " + distinct.size() + " values at " + bits + " bits");
        float[] orig = w.get(k);
        float[] dec = decoded.get(k);
        for (int i = 0; i < orig.length; i++) {
          err += (orig[i] - dec[i]) * (orig[i] - dec[i]);
          // Each weight maps to its nearest centroid.
          for (float c : book.coded().get(k).centroids()) {
            assertTrue(Math.abs(orig[i] - dec[i]) <= Math.abs(orig[i] - c) + 1e-7);
          }
        }
      }
      assertTrue(err < previous, "error at " + bits + " bits: " + err + " vs " + previous);
      previous = err;
      // Biases are kept as they are.
      assertEquals(w.get("conv1.bias")[0], decoded.get("conv1.bias")[0]);
    }
    Codebook four = Codebook.quantize(spec, w, 4);
    long fp32 = ModelSize.fp32Bytes(w);
    assertTrue(four.size().bytes() <= fp32 / 4, four.size() + " vs " + fp32);
    assertThrows(UserException.class, () -> Codebook.quantize(spec, w, 0));
    assertThrows(UserException.class, () -> Codebook.quantize(spec, w, 9));
  }

  @Test
  void kMeansFindsObviousClusters() {
    float[] v = {-1.01f, -0.99f, -1f, 2f, 2.02f, 1.98f, 5f, 5f, 9f, 9.1f};
    Codebook.Coded c = Codebook.cluster(v, 2);
    float[] expected = {-1, -1, -1, 2, 2, 2, 5, 5, 9.05f, 9.05f};
    for (int i = 0; i < v.length; i++) {
      assertEquals(expected[i], c.centroids()[Codebook.read(c.packed(), i, 2)], 1e-5, "value " + i);
    }
    assertEquals(3, c.packed().length, "10 indices of 2 bits");
  }

  @Test
  void sizeRatios() {
    Map<String, float[]> w = Map.of("a", new float[100], "b", new float[28]);
    ModelSize fp32 = ModelSize.fp32(w);
    assertEquals(512, fp32.bytes());
    assertEquals(2.0, NarrowWeights.narrow(w, NarrowWeights.Format.BF16).size().ratioTo(fp32), 1e-12);
  }
}
