package io.dlsql.executor.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import io.dlsql.executor.layer.InitScheme;
import io.dlsql.executor.optim.Adam;
import io.dlsql.executor.optim.LearningRateSchedule;
import java.math.BigDecimal;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainOptionsTest {
  private static String error(Map<String, Object> m) {
    return assertThrows(UserException.class, () -> TrainOptions.fromMap(m)).getMessage();
  }

  @Test
  void defaultsAreWhatAPyTorchUserExpects() {
    TrainOptions o = TrainOptions.defaults();
    assertEquals(1, o.epochs());
    assertEquals(64, o.batchSize());
    assertEquals("sgd", o.optimizer());
    assertEquals(0.01, o.learningRate());
    assertEquals(0, o.momentum());
    assertEquals(0, o.seed());
    assertTrue(o.shuffle());
    assertEquals(InitScheme.DEFAULT, o.init());
    TrainOptions adamw = TrainOptions.fromMap(Map.of("OPTIMIZER", "AdamW"));
    assertEquals(0.001, adamw.learningRate());
    assertEquals(Adam.ADAMW_DEFAULT_WEIGHT_DECAY, adamw.weightDecay());
  }

  @Test
  void readsSqlValues() {
    TrainOptions o = TrainOptions.fromMap(Map.of(
        "epochs", new BigDecimal("5"), "batch_size", 128L, "learning_rate", new BigDecimal("0.05"),
        "momentum", 0.9, "nesterov", true, "validation", 0.1, "memory_limit", "512MB",
        "schedule", "cosine", "warmup_epochs", 1, "init", "he"));
    assertEquals(5, o.epochs());
    assertEquals(128, o.batchSize());
    assertEquals(0.05, o.learningRate());
    assertEquals(512L << 20, o.memoryLimitBytes());
    assertEquals(InitScheme.HE, o.init());
    assertEquals(new LearningRateSchedule.Warmup(1, new LearningRateSchedule.Cosine(0.05, 4)), o.createSchedule());
  }

  @Test
  void rejectsMistakes() {
    assertTrue(error(Map.of("epoch", 3)).startsWith("unknown training option epoch; known options: augment, batch_size,"));
    assertEquals("epochs must be at least 1, got 0", error(Map.of("epochs", 0)));
    assertEquals("batch_size must be an integer, got 'big'", error(Map.of("batch_size", "big")));
    assertEquals("batch_size must be an integer, got 1.5", error(Map.of("batch_size", new BigDecimal("1.5"))));
    assertEquals("optimizer must be one of 'sgd', 'adam', 'adamw', got 'rmsprop'", error(Map.of("optimizer", "rmsprop")));
    assertEquals("learning_rate must be in (0, infinity), got -1", error(Map.of("learning_rate", -1)));
    assertEquals("validation must be in [0, 1), got 1", error(Map.of("validation", 1)));
    assertEquals("momentum must be in [0, 1), got 1.5", error(Map.of("momentum", 1.5)));
    assertEquals("schedule 'step' needs step_size (epochs between decays)", error(Map.of("schedule", "step")));
    assertEquals("nesterov needs optimizer 'sgd' with a positive momentum", error(Map.of("nesterov", true)));
    assertEquals("shuffle must be TRUE or FALSE, got 3", error(Map.of("shuffle", 3)));
    assertEquals("warmup_epochs (2) must be less than epochs (2)", error(Map.of("warmup_epochs", 2, "epochs", 2)));
    assertEquals("crop_padding and flip need augment = true", error(Map.of("flip", true)));
    assertEquals("unknown init 'lecun'; known: 'default', 'he', 'xavier'", error(Map.of("init", "lecun")));
    assertEquals("memory_limit must be bytes or a size such as '512MB' or '2GB', got 'lots'", error(Map.of("memory_limit", "lots")));
  }
}
