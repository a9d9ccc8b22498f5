package io.dlsql.catalog;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * A second process for the lock and crash tests. {@code open DIR} opens the catalog and reports the
 * outcome; {@code hold DIR} opens it and waits; {@code train DIR} simulates a trainer that saves a
 * checkpoint, a model and a log row per epoch until it is killed.
 */
public final class CatalogChild {
  private CatalogChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    switch (args[0]) {
      case "open" -> {
        try (Catalog c = Catalog.open(dir)) {
          System.out.println("OPENED");
        } catch (UserException e) {
          System.out.println("REFUSED " + e.getMessage());
        }
      }
      case "hold" -> {
        try (Catalog c = Catalog.open(dir)) {
          System.out.println("HOLDING");
          System.out.flush();
          Thread.sleep(Long.MAX_VALUE);
        }
      }
      case "train" -> {
        Catalog c = Catalog.open(dir);
        c.createModel(ModelStorageTest.convnet("m"), true);
        for (int epoch = 1; ; epoch++) {
          WeightSet w = ModelStorageTest.weights(epoch);
          c.saveCheckpoint("m", epoch, w, Map.of("epoch_tag", Integer.toString(epoch)));
          c.saveModel(c.model("m").orElseThrow().toBuilder().epochsTrained(epoch).build(), w);
          c.appendTrainingLog(
              new TrainingLogRow(
                  "m", "run", epoch, 1.0 / epoch, 0.5, null, null, 0.1, 0.01, 1, 1, Instant.now()));
          System.out.println("EPOCH " + epoch);
          System.out.flush();
        }
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
