package io.dlsql.executor.compress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.graph.NetworkSpec;
import io.dlsql.executor.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorArchiveTest {
  private static TensorArchive roundTrip(TensorArchive a) {
    return TensorArchive.decode(a.encode());
  }

  private static void assertSameState(Map<String, float[]> expected, Map<String, float[]> actual) {
    assertEquals(expected.keySet(), actual.keySet());
    expected.forEach((k, v) -> assertArrayEquals(v, actual.get(k), k));
  }

  @Test
  void everyRepresentationSurvivesEncoding() {
    NetworkSpec spec = Fixtures.tinyResnet();
    LinkedHashMap<String, float[]> w = Fixtures.weights(spec, 1);
    // int8: same logits after reopening from bytes, and the archive payload is the accounted size.
    try (QuantizedNetwork q = QuantizedNetwork.quantize(spec, w, Fixtures.randomDataset(16, spec.inputShape(), 4, 2),
            Calibration.Options.defaults());
        Tensor x = Fixtures.randomInput(3, spec.inputShape(), 3)) {
      TensorArchive a = roundTrip(q.model().toArchive());
      assertEquals(q.bytes(), a.payloadBytes());
      try (QuantizedNetwork back = QuantizedNetwork.open(spec, QuantizedNetwork.Int8Model.fromArchive(spec, a))) {
        assertArrayEquals(q.forward(x).toFloatArray(), back.forward(x).toFloatArray());
      }
    }
    NarrowWeights bf16 = NarrowWeights.narrow(w, NarrowWeights.Format.BF16);
    NarrowWeights bf16Back = NarrowWeights.fromArchive(roundTrip(bf16.toArchive()));
    assertEquals(NarrowWeights.Format.BF16, bf16Back.format());
    assertSameState(bf16.widen(), bf16Back.widen());
    Codebook book = Codebook.quantize(spec, w, 3);
    TensorArchive bookArchive = roundTrip(book.toArchive());
    assertSameState(book.decode(), Codebook.fromArchive(bookArchive).decode());
    assertEquals(book.size().bytes(), bookArchive.payloadBytes() - 4L * book.coded().size());
    LinkedHashMap<String, float[]> pruned = new LinkedHashMap<>(w);
    pruned.replaceAll((k, v) -> v.clone());
    MagnitudePruning.unstructured(spec, pruned, 0.9, MagnitudePruning.Scope.GLOBAL).applyTo(pruned);
    TensorArchive csr = roundTrip(SparseNetwork.toArchive(spec, pruned));
    assertSameState(pruned, SparseNetwork.stateFromArchive(csr));
    assertEquals(SparseNetwork.size(spec, pruned).bytes(), csr.payloadBytes() - 8L * csr.entries().keySet().stream()
        .filter(k -> k.endsWith("/shape")).count());
  }

  @Test
  void corruptOrForeignBytesAreUserErrors() {
    assertThrows(UserException.class, () -> TensorArchive.decode(new byte[] {1, 2, 3}));
    byte[] good = new TensorArchive().putMetadata("method", "bf16").put("a", new short[] {1, 2}).encode();
    assertThrows(UserException.class, () -> TensorArchive.decode(java.util.Arrays.copyOf(good, good.length - 1)));
    TensorArchive bf16 = TensorArchive.decode(good);
    assertThrows(UserException.class, () -> Codebook.fromArchive(bf16));
    assertThrows(UserException.class, () -> SparseNetwork.stateFromArchive(bf16));
  }
}
