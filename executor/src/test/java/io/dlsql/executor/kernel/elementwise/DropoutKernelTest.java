package io.dlsql.executor.kernel.elementwise;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dlsql.executor.kernel.Gemm;
import io.dlsql.executor.random.Rng;
import io.dlsql.executor.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The dropout kernel on both paths draws exactly the mask of the sequential generator ({@code
 * rng.nextFloat() < p} per element), for probabilities at and between the 2^-24 steps of a draw,
 * on lengths that are not multiples of the vector width and at an offset.
 */
class DropoutKernelTest {
  private static final int SIZE = 1037;
  private static final int OFFSET = 5;
  private static final int LENGTH = 1029;
  private final Gemm.Variant before = Gemm.variant();

  @AfterEach
  void restore() {
    Gemm.setVariant(before);
  }

  @ParameterizedTest
  @EnumSource(Gemm.Variant.class)
  void drawsTheSequentialGeneratorsMask(Gemm.Variant variant) {
    Gemm.setVariant(variant);
    Rng data = new Rng(3);
    float[] probabilities = {0f, 0.1f, 0.4f, 0.5f, 0.75f, 1f / (1 << 24), 0x1.000002p-1f, 0.999f};
    try (Tensor x = Tensor.zeros(SIZE); Tensor y = Tensor.zeros(SIZE); Tensor mask = Tensor.zeros(SIZE)) {
      for (int i = 0; i < SIZE; i++) {
        x.setFlat(i, (float) data.uniform(-2, 2));
      }
      x.setFlat(OFFSET + 1, Float.POSITIVE_INFINITY);
      for (float p : probabilities) {
        float keep = 1f / (1f - p);
        long stream = Rng.mix(11, Float.floatToIntBits(p));
        y.fill(7f);
        mask.fill(7f);
        DropoutKernel.forward(stream, p, keep, x.segment(), y.segment(), mask.segment(), OFFSET, LENGTH);
        Rng rng = new Rng(stream);
        for (int i = 0; i < SIZE; i++) {
          boolean inside = i >= OFFSET && i < OFFSET + LENGTH;
          float k = inside ? (rng.nextFloat() < p ? 0f : keep) : 7f;
          float expectY = inside ? x.getFlat(i) * k : 7f;
          String what = variant + " p " + p + " [" + i + "]";
          assertEquals(k, mask.getFlat(i), what + " mask");
          assertEquals(Float.floatToIntBits(expectY), Float.floatToIntBits(y.getFlat(i)), what + " y");
        }
      }
    }
  }
}
