package io.dlsql.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.storage.Manifest;
import io.dlsql.catalog.storage.TrainingLogFile;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crash safety: corruption is detected, leftovers of crashes are cleaned up, the lock holds. */
class RecoveryTest {
  @TempDir Path dir;

  private static final List<ColumnDef> COLS = List.of(ColumnDef.of("x", ColumnType.INTEGER));
  private static final long CHILD_TIMEOUT_SECONDS = 60;

  private static void flipByte(Path file, long offset) throws IOException {
    byte[] b = Files.readAllBytes(file);
    int at = (int) (offset < 0 ? b.length + offset : offset);
    b[at] ^= 0x5a;
    Files.write(file, b);
  }

  private Path onlyFile(String sub) throws IOException {
    try (var s = Files.list(dir.resolve(sub))) {
      List<Path> files = s.toList();
      assertEquals(1, files.size(), files.toString());
      return files.get(0);
    }
  }

  private void createTableWithRows(Catalog c, String name, int rows) {
    try (TableWriter w = c.writeTable(name, COLS, WriteMode.CREATE)) {
      for (int i = 0; i < rows; i++) {
        w.appendRow(new Object[] {i});
      }
      w.commit();
    }
  }

  @Test
  void corruptTableFileIsReportedByName() throws IOException {
    try (Catalog c = Catalog.open(dir)) {
      createTableWithRows(c, "t", 100);
    }
    Path file = onlyFile(Catalog.TABLES_DIR);
    flipByte(file, Files.size(file) / 2);
    try (Catalog c = Catalog.open(dir)) {
      UserException e = assertThrows(UserException.class, () -> c.readTable("t"));
      assertTrue(
          e.getMessage().contains(file.getFileName().toString())
              && e.getMessage().contains("corrupt"),
          e.getMessage());
      assertEquals(100, c.table("t").orElseThrow().rowCount(), "metadata still readable");
    }
  }

  @Test
  void corruptWeightsAndCheckpointAreReportedByName() throws IOException {
    try (Catalog c = Catalog.open(dir)) {
      c.saveModel(ModelStorageTest.convnet("m"), ModelStorageTest.weights(1));
      c.saveCheckpoint("m", 1, ModelStorageTest.weights(1), Map.of());
    }
    Path weights = onlyFile(Catalog.MODELS_DIR);
    Path checkpoint = onlyFile(Catalog.CHECKPOINTS_DIR);
    flipByte(weights, 40);
    flipByte(checkpoint, -1);
    try (Catalog c = Catalog.open(dir)) {
      UserException w = assertThrows(UserException.class, () -> c.loadWeights("m"));
      assertTrue(w.getMessage().contains(weights.getFileName().toString()), w.getMessage());
      UserException cp = assertThrows(UserException.class, () -> c.checkpoint("m"));
      assertTrue(cp.getMessage().contains(checkpoint.getFileName().toString()), cp.getMessage());
    }
  }

  @Test
  void corruptManifestRefusesToOpenAndReleasesTheLock() throws IOException {
    try (Catalog c = Catalog.open(dir)) {
      createTableWithRows(c, "t", 1);
    }
    Path manifest = dir.resolve(Manifest.FILE_NAME);
    byte[] good = Files.readAllBytes(manifest);
    flipByte(manifest, 20);
    UserException e = assertThrows(UserException.class, () -> Catalog.open(dir));
    assertTrue(
        e.getMessage().contains(Manifest.FILE_NAME) && e.getMessage().contains("checksum"),
        e.getMessage());
    Files.write(manifest, good);
    try (Catalog c = Catalog.open(dir)) {
      assertTrue(c.table("t").isPresent());
    }
  }

  @Test
  void leftoversOfACrashAreCleanedUpAndTheCommittedStateRemains() throws IOException {
    try (Catalog c = Catalog.open(dir)) {
      createTableWithRows(c, "t", 3);
      c.saveModel(ModelStorageTest.convnet("m"), ModelStorageTest.weights(1));
    }
    Path tableFile = onlyFile(Catalog.TABLES_DIR);
    // A crash mid-write leaves temp files; a crash between data file and manifest leaves an
    // unreferenced data file (here: a copy of a real one, so it is well-formed).
    Files.writeString(dir.resolve(Catalog.TABLES_DIR).resolve("write-t-123.tmp"), "half a file");
    Files.writeString(dir.resolve("MANIFEST-456.tmp"), "half a manifest");
    Path orphan = dir.resolve(Catalog.TABLES_DIR).resolve("t-0000.arrow");
    Files.copy(tableFile, orphan);
    Files.writeString(dir.resolve(Catalog.MODELS_DIR).resolve("m-0000.weights"), "never committed");
    try (Catalog c = Catalog.open(dir)) {
      assertEquals(2, c.recovery().tempFilesRemoved());
      assertEquals(
          List.of("models/m-0000.weights", "tables/t-0000.arrow"),
          c.recovery().unreferencedFilesRemoved().stream().sorted().toList());
      assertEquals(tableFile, onlyFile(Catalog.TABLES_DIR));
      assertEquals(3, c.table("t").orElseThrow().rowCount());
      try (TableReader r = c.readTable("t")) {
        assertEquals(3, r.rowCount());
      }
      assertEquals(ModelStorageTest.weights(1), c.loadWeights("m"));
    }
  }

  private static TrainingLogRow logRow(int epoch) {
    return new TrainingLogRow("m", "r", epoch, 1, 1, null, null, 0.1, 1, 1, 1, Instant.EPOCH);
  }

  @Test
  void tornTrainingLogRecordIsIgnoredAndLaterAppendsFollowTheLastGoodOne() throws IOException {
    try (Catalog c = Catalog.open(dir)) {
      c.appendTrainingLog(logRow(1));
      c.appendTrainingLog(logRow(2));
    }
    Path log = dir.resolve(TrainingLogFile.FILE_NAME);
    long good = Files.size(log);
    // A record cut short: its length says 80 bytes, only 10 made it to disk.
    Files.write(
        log, new byte[] {0, 0, 0, 80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, StandardOpenOption.APPEND);
    try (Catalog c = Catalog.open(dir)) {
      assertEquals(List.of(logRow(1), logRow(2)), c.trainingLog());
      assertEquals(good, Files.size(log));
      c.appendTrainingLog(logRow(3));
    }
    try (Catalog c = Catalog.open(dir)) {
      assertEquals(List.of(logRow(1), logRow(2), logRow(3)), c.trainingLog());
    }
  }

  @Test
  void damageInTheMiddleOfTheTrainingLogIsReported() throws IOException {
    try (Catalog c = Catalog.open(dir)) {
      c.appendTrainingLog(logRow(1));
      c.appendTrainingLog(logRow(2));
    }
    flipByte(dir.resolve(TrainingLogFile.FILE_NAME), 30);
    UserException e = assertThrows(UserException.class, () -> Catalog.open(dir));
    assertTrue(e.getMessage().contains(TrainingLogFile.FILE_NAME), e.getMessage());
  }

  @Test
  void aSecondOpenInThisProcessIsRefused() {
    try (Catalog c = Catalog.open(dir)) {
      UserException e = assertThrows(UserException.class, () -> Catalog.open(dir));
      assertTrue(e.getMessage().contains("already open in this process"), e.getMessage());
    }
    Catalog.open(dir).close();
  }

  private static Process startChild(String mode, Path dir) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElseThrow());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-") || arg.startsWith("--enable-") || arg.startsWith("--sun-")) {
        cmd.add(arg);
      }
    }
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            CatalogChild.class.getName(),
            mode,
            dir.toString()));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  private static String readLine(Process p) throws IOException {
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = r.readLine()) != null) {
      // Skip JVM and logging warnings; the child's own answer is one of these.
      if (line.startsWith("OPENED") || line.startsWith("REFUSED")) {
        return line;
      }
    }
    return "<no output>";
  }

  @Test
  void anotherProcessCannotOpenAHeldDirectory() throws Exception {
    try (Catalog c = Catalog.open(dir)) {
      Process child = startChild("open", dir);
      String line = readLine(child);
      assertTrue(child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS));
      assertTrue(
          line.startsWith("REFUSED")
              && line.contains("in use by another dlsql process")
              && line.contains("pid " + ProcessHandle.current().pid()),
          line);
    }
    Process child = startChild("open", dir);
    String line = readLine(child);
    assertTrue(child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS));
    assertEquals("OPENED", line);
  }

  @Test
  void killDashNineDuringTrainingLeavesTheLastCompletedEpochLoadable() throws Exception {
    Process child = startChild("train", dir);
    BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    int lastReported = 0;
    final int epochsBeforeKill = 5;
    String line;
    while (lastReported < epochsBeforeKill && (line = out.readLine()) != null) {
      if (line.startsWith("EPOCH ")) {
        lastReported = Integer.parseInt(line.substring("EPOCH ".length()));
      }
    }
    child.destroyForcibly(); // SIGKILL: no shutdown hooks, no close()
    assertTrue(child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS));
    assertEquals(epochsBeforeKill, lastReported, "child did not get far enough");
    try (Catalog c = Catalog.open(dir)) {
      Checkpoint cp = c.checkpoint("m").orElseThrow();
      assertTrue(cp.epoch() >= lastReported, "checkpoint epoch " + cp.epoch());
      assertEquals(
          ModelStorageTest.weights(cp.epoch()), cp.state(), "checkpoint matches its epoch");
      assertEquals(Integer.toString(cp.epoch()), cp.meta().get("epoch_tag"));
      ModelInfo m = c.model("m").orElseThrow();
      assertEquals(
          ModelStorageTest.weights(m.epochsTrained()),
          c.loadWeights("m"),
          "model matches its metadata");
      assertTrue(c.trainingLog().size() >= lastReported);
      for (int i = 0; i < c.trainingLog().size(); i++) {
        assertEquals(i + 1, c.trainingLog().get(i).epoch());
      }
    }
  }
}
