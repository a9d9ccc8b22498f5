package io.dlsql.catalog.storage;

import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.ColumnType;
import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.ModelStatus;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One immutable, committed state of the catalog: every table, model, checkpoint and tuning record,
 * and the data file each points to. A change builds a new manifest and replaces the {@value
 * #FILE_NAME} file atomically, so what is on disk is always exactly one such state; a data file is
 * visible only once a committed manifest names it.
 *
 * @param generation incremented on every commit
 */
public record Manifest(
    long generation,
    Map<String, TableEntry> tables,
    Map<String, ModelEntry> models,
    Map<String, CheckpointEntry> checkpoints,
    Map<String, Map<String, String>> tuningRecords) {
  /** Name of the manifest file inside the data directory. */
  public static final String FILE_NAME = "MANIFEST";

  private static final byte[] MAGIC = "DLSQLMAN".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;

  public Manifest {
    // Sorted maps so that listings come out in name order without sorting at every call.
    tables = Collections.unmodifiableMap(new TreeMap<>(tables));
    models = Collections.unmodifiableMap(new TreeMap<>(models));
    checkpoints = Collections.unmodifiableMap(new TreeMap<>(checkpoints));
    tuningRecords = Collections.unmodifiableMap(new TreeMap<>(tuningRecords));
  }

  /** The state of a new, empty catalog. */
  public static Manifest empty() {
    return new Manifest(0, Map.of(), Map.of(), Map.of(), Map.of());
  }

  /**
   * A committed table and its data file (relative to the data directory), with the file's size and
   * CRC32C so that a read can verify it.
   */
  public record TableEntry(
      String name,
      List<ColumnDef> columns,
      String file,
      long rowCount,
      long bytes,
      int crc32c,
      Instant created) {
    public TableEntry {
      columns = List.copyOf(columns);
    }
  }

  /** A committed model; {@code weightsFile} is null while it is only defined. */
  public record ModelEntry(ModelInfo info, String weightsFile) {}

  /** The latest checkpoint of a model. */
  public record CheckpointEntry(String model, int epoch, String file, long bytes, Instant saved) {}

  /** This state with one table added or replaced. */
  public Manifest withTable(TableEntry t) {
    Map<String, TableEntry> m = new TreeMap<>(tables);
    m.put(t.name(), t);
    return new Manifest(generation, m, models, checkpoints, tuningRecords);
  }

  /** This state without the named table. */
  public Manifest withoutTable(String name) {
    Map<String, TableEntry> m = new TreeMap<>(tables);
    m.remove(name);
    return new Manifest(generation, m, models, checkpoints, tuningRecords);
  }

  /** This state with one model added or replaced. */
  public Manifest withModel(ModelEntry e) {
    Map<String, ModelEntry> m = new TreeMap<>(models);
    m.put(e.info().name(), e);
    return new Manifest(generation, tables, m, checkpoints, tuningRecords);
  }

  /** This state without the named model and its checkpoint. */
  public Manifest withoutModel(String name) {
    Map<String, ModelEntry> m = new TreeMap<>(models);
    m.remove(name);
    return new Manifest(generation, tables, m, checkpoints, tuningRecords).withoutCheckpoint(name);
  }

  /** This state with a model's checkpoint added or replaced. */
  public Manifest withCheckpoint(CheckpointEntry c) {
    Map<String, CheckpointEntry> m = new TreeMap<>(checkpoints);
    m.put(c.model(), c);
    return new Manifest(generation, tables, models, m, tuningRecords);
  }

  /** This state without the model's checkpoint. */
  public Manifest withoutCheckpoint(String model) {
    Map<String, CheckpointEntry> m = new TreeMap<>(checkpoints);
    m.remove(model);
    return new Manifest(generation, tables, models, m, tuningRecords);
  }

  /** This state with tuning records added or replaced. */
  public Manifest withTuningRecords(Map<String, Map<String, String>> records) {
    Map<String, Map<String, String>> m = new TreeMap<>(tuningRecords);
    records.forEach((k, v) -> m.put(k, Map.copyOf(v)));
    return new Manifest(generation, tables, models, checkpoints, m);
  }

  /** This state as the next generation. */
  public Manifest nextGeneration() {
    return new Manifest(generation + 1, tables, models, checkpoints, tuningRecords);
  }

  /** Every data file (relative path) this manifest references; the rest is garbage. */
  public Set<String> referencedFiles() {
    Set<String> files = new HashSet<>();
    tables.values().forEach(t -> files.add(t.file()));
    models.values().stream()
        .filter(m -> m.weightsFile() != null)
        .forEach(m -> files.add(m.weightsFile()));
    checkpoints.values().forEach(c -> files.add(c.file()));
    return files;
  }

  /** Writes this manifest to {@code dataDir/MANIFEST} atomically. */
  public void write(Path dataDir) throws IOException {
    AtomicFiles.writeChecksummed(dataDir.resolve(FILE_NAME), this::encode);
  }

  /** Reads and verifies {@code dataDir/MANIFEST}. */
  public static Manifest read(Path dataDir) throws IOException {
    Encoding.Decoder in = Encoding.readVerified(dataDir.resolve(FILE_NAME), MAGIC);
    in.expectVersion(VERSION);
    long generation = in.readLong();
    Map<String, TableEntry> tables = new TreeMap<>();
    for (int i = 0, n = in.readCount(); i < n; i++) {
      TableEntry t = readTable(in);
      tables.put(t.name(), t);
    }
    Map<String, ModelEntry> models = new TreeMap<>();
    for (int i = 0, n = in.readCount(); i < n; i++) {
      ModelInfo info = readModel(in);
      models.put(info.name(), new ModelEntry(info, in.readString()));
    }
    Map<String, CheckpointEntry> checkpoints = new TreeMap<>();
    for (int i = 0, n = in.readCount(); i < n; i++) {
      CheckpointEntry c =
          new CheckpointEntry(
              in.readString(), in.readInt(), in.readString(), in.readLong(), in.readInstant());
      checkpoints.put(c.model(), c);
    }
    Map<String, Map<String, String>> tuning = new TreeMap<>();
    for (int i = 0, n = in.readCount(); i < n; i++) {
      tuning.put(in.readString(), Map.copyOf(in.readStringMap()));
    }
    return new Manifest(generation, tables, models, checkpoints, tuning);
  }

  private void encode(DataOutputStream out) throws IOException {
    out.write(MAGIC);
    out.writeInt(VERSION);
    out.writeLong(generation);
    out.writeInt(tables.size());
    for (TableEntry t : tables.values()) {
      Encoding.writeString(out, t.name());
      out.writeInt(t.columns().size());
      for (ColumnDef c : t.columns()) {
        Encoding.writeString(out, c.name());
        Encoding.writeString(out, c.type().sqlName());
        out.writeBoolean(c.nullable());
      }
      Encoding.writeString(out, t.file());
      out.writeLong(t.rowCount());
      out.writeLong(t.bytes());
      out.writeInt(t.crc32c());
      Encoding.writeInstant(out, t.created());
    }
    out.writeInt(models.size());
    for (ModelEntry m : models.values()) {
      writeModel(out, m.info());
      Encoding.writeString(out, m.weightsFile());
    }
    out.writeInt(checkpoints.size());
    for (CheckpointEntry c : checkpoints.values()) {
      Encoding.writeString(out, c.model());
      out.writeInt(c.epoch());
      Encoding.writeString(out, c.file());
      out.writeLong(c.bytes());
      Encoding.writeInstant(out, c.saved());
    }
    out.writeInt(tuningRecords.size());
    for (Map.Entry<String, Map<String, String>> e : tuningRecords.entrySet()) {
      Encoding.writeString(out, e.getKey());
      Encoding.writeStringMap(out, new TreeMap<>(e.getValue()));
    }
  }

  private static TableEntry readTable(Encoding.Decoder in) {
    String name = in.readString();
    List<ColumnDef> columns = new ArrayList<>();
    for (int i = 0, n = in.readCount(); i < n; i++) {
      columns.add(
          new ColumnDef(in.readString(), ColumnType.parse(in.readString()), in.readBoolean()));
    }
    return new TableEntry(
        name,
        columns,
        in.readString(),
        in.readLong(),
        in.readLong(),
        in.readInt(),
        in.readInstant());
  }

  private static void writeModel(DataOutputStream out, ModelInfo m) throws IOException {
    Encoding.writeString(out, m.name());
    Encoding.writeString(out, m.definition());
    Encoding.writeString(out, m.kind());
    Encoding.writeString(out, m.parent());
    Encoding.writeString(out, m.statement());
    Encoding.writeInstant(out, m.created());
    Encoding.writeString(out, m.status().name());
    Encoding.writeString(out, m.inputName());
    Encoding.writeIntArray(out, m.inputDims());
    Encoding.writeString(out, m.labelColumn());
    out.writeInt(m.classes());
    out.writeLong(m.parameterCount());
    out.writeLong(m.sizeBytes());
    out.writeInt(m.epochsTrained());
    Encoding.writeNullableDouble(out, m.lastTrainLoss());
    Encoding.writeNullableDouble(out, m.accuracy());
    Encoding.writeNullableDouble(out, m.loss());
    Encoding.writeNullableDouble(out, m.latencyMs());
    Encoding.writeNullableDouble(out, m.throughput());
    Encoding.writeNullableLong(out, m.peakMemoryBytes());
    Encoding.writeStringMap(out, new TreeMap<>(m.properties()));
  }

  private static ModelInfo readModel(Encoding.Decoder in) {
    return new ModelInfo(
        in.readString(),
        in.readString(),
        in.readString(),
        in.readString(),
        in.readString(),
        in.readInstant(),
        ModelStatus.valueOf(in.readString()),
        in.readString(),
        in.readIntArray(),
        in.readString(),
        in.readInt(),
        in.readLong(),
        in.readLong(),
        in.readInt(),
        in.readNullableDouble(),
        in.readNullableDouble(),
        in.readNullableDouble(),
        in.readNullableDouble(),
        in.readNullableDouble(),
        in.readNullableLong(),
        in.readStringMap());
  }
}
