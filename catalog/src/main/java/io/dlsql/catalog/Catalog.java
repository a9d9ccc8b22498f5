package io.dlsql.catalog;

import io.dlsql.catalog.storage.AtomicFiles;
import io.dlsql.catalog.storage.DirectoryLock;
import io.dlsql.catalog.storage.Manifest;
import io.dlsql.catalog.storage.Manifest.CheckpointEntry;
import io.dlsql.catalog.storage.Manifest.ModelEntry;
import io.dlsql.catalog.storage.Manifest.TableEntry;
import io.dlsql.catalog.storage.TrainingLogFile;
import io.dlsql.catalog.storage.WeightFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

/**
 * The catalog of one data directory: tables (Arrow IPC files), models with their weights and
 * checkpoints, the training log and tuning records. One process at a time holds a directory; within
 * it a catalog is shared by all connections and is thread-safe.
 *
 * <p>Storage follows the database recipe: data files are immutable, uniquely named and written
 * atomically; the {@code MANIFEST} lists what is committed and is itself replaced atomically on
 * every change, so an object becomes visible exactly when its manifest entry is committed. Opening
 * the directory recovers from any crash: temp files are removed, files no manifest references are
 * collected, a torn training-log record is cut off.
 */
public final class Catalog implements AutoCloseable {
  static final String TABLES_DIR = "tables";
  static final String MODELS_DIR = "models";
  static final String CHECKPOINTS_DIR = "checkpoints";
  private static final String TABLE_SUFFIX = ".arrow";
  private static final String WEIGHTS_SUFFIX = ".weights";
  private static final String CHECKPOINT_SUFFIX = ".ckpt";
  private static final int MAX_FILE_NAME_PREFIX = 40;

  /** Checkpoint metadata key holding the epoch, so the file is self-describing. */
  private static final String EPOCH_META_KEY = "epoch";

  private final Path dir;
  private final DirectoryLock lock;
  private final BufferAllocator allocator;
  private final TrainingLogFile trainingLog;
  private final Recovery recovery;

  /** Serializes commits; reads take the current manifest without locking. */
  private final ReentrantLock commitLock = new ReentrantLock();

  private volatile Manifest manifest;
  private volatile boolean closed;

  /** What opening the directory cleaned up after earlier crashes. */
  public record Recovery(int tempFilesRemoved, List<String> unreferencedFilesRemoved) {
    public Recovery {
      unreferencedFilesRemoved = List.copyOf(unreferencedFilesRemoved);
    }
  }

  private Catalog(
      Path dir,
      DirectoryLock lock,
      Manifest manifest,
      TrainingLogFile trainingLog,
      Recovery recovery) {
    this.dir = dir;
    this.lock = lock;
    this.manifest = manifest;
    this.trainingLog = trainingLog;
    this.recovery = recovery;
    this.allocator = new RootAllocator();
  }

  /**
   * Opens (creating if missing) the catalog in {@code dataDir}, taking the directory's process lock
   * and recovering from any earlier crash.
   *
   * @throws UserException if another process (or this one) has the directory open, the path is not
   *     a usable directory, or the manifest is corrupt
   */
  public static Catalog open(Path dataDir) {
    Path dir = dataDir.toAbsolutePath().normalize();
    try {
      if (Files.exists(dir) && !Files.isDirectory(dir)) {
        throw new UserException("data directory " + dir + " is a file, not a directory");
      }
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw storageError("creating data directory " + dir, e);
    }
    DirectoryLock lock;
    try {
      lock = DirectoryLock.acquire(dir);
    } catch (IOException e) {
      throw storageError("locking data directory " + dir, e);
    }
    TrainingLogFile log = null;
    try {
      int temps = 0;
      for (String sub : List.of(TABLES_DIR, MODELS_DIR, CHECKPOINTS_DIR)) {
        Files.createDirectories(dir.resolve(sub));
        temps += AtomicFiles.deleteTempFiles(dir.resolve(sub));
      }
      temps += AtomicFiles.deleteTempFiles(dir);
      AtomicFiles.fsyncDirectory(dir);
      Manifest m =
          Files.exists(dir.resolve(Manifest.FILE_NAME)) ? Manifest.read(dir) : Manifest.empty();
      List<String> collected = collectGarbage(dir, m.referencedFiles());
      log = TrainingLogFile.open(dir);
      return new Catalog(dir, lock, m, log, new Recovery(temps, collected));
    } catch (IOException | RuntimeException e) {
      closeQuietly(log);
      closeQuietly(lock);
      if (e instanceof IOException io) {
        throw storageError("opening data directory " + dir, io);
      }
      throw (RuntimeException) e;
    }
  }

  /** Deletes data files no committed manifest references (written, never committed). */
  private static List<String> collectGarbage(Path dir, Set<String> referenced) throws IOException {
    List<String> removed = new ArrayList<>();
    for (String sub : List.of(TABLES_DIR, MODELS_DIR, CHECKPOINTS_DIR)) {
      Path subDir = dir.resolve(sub);
      try (DirectoryStream<Path> files = Files.newDirectoryStream(subDir)) {
        for (Path f : files) {
          String rel = sub + "/" + f.getFileName();
          if (Files.isRegularFile(f) && !referenced.contains(rel)) {
            Files.delete(f);
            removed.add(rel);
          }
        }
      }
      if (!removed.isEmpty()) {
        AtomicFiles.fsyncDirectory(subDir);
      }
    }
    return removed;
  }

  /** The data directory. */
  public Path dataDir() {
    return dir;
  }

  /** The Arrow allocator that owns all off-heap memory of this catalog's readers and writers. */
  public BufferAllocator allocator() {
    return allocator;
  }

  /** What opening cleaned up (temp files, unreferenced files). */
  public Recovery recovery() {
    return recovery;
  }

  // ---------------------------------------------------------------------------------------
  // Tables

  /** All tables, by name. */
  public List<TableInfo> tables() {
    return manifest.tables().values().stream().map(Catalog::info).toList();
  }

  /** The table of that name (case-insensitive), if it exists. */
  public Optional<TableInfo> table(String name) {
    return Optional.ofNullable(manifest.tables().get(normalize(name))).map(Catalog::info);
  }

  /**
   * Creates an empty table.
   *
   * @return false if {@code ifNotExists} and the table already existed (nothing changed)
   * @throws UserException if the table exists and neither flag allows it, or both flags are set
   */
  public boolean createTable(
      String name, List<ColumnDef> cols, boolean replace, boolean ifNotExists) {
    if (replace && ifNotExists) {
      throw new UserException("OR REPLACE and IF NOT EXISTS cannot be combined");
    }
    String n = normalize(name);
    if (ifNotExists && manifest.tables().containsKey(n)) {
      return false;
    }
    try (TableWriter w = writeTable(n, cols, replace ? WriteMode.REPLACE : WriteMode.CREATE)) {
      w.commit();
    } catch (UserException e) {
      // Another connection created it between the check above and the commit.
      if (ifNotExists && manifest.tables().containsKey(n)) {
        return false;
      }
      throw e;
    }
    return true;
  }

  /**
   * Starts writing a table. CREATE fails if the name is taken, REPLACE swaps the whole table at
   * commit, APPEND adds rows to an existing table ({@code cols} may be null to take the table's own
   * columns; otherwise they must be the same).
   */
  public TableWriter writeTable(String name, List<ColumnDef> cols, WriteMode mode) {
    checkOpen();
    String n = normalize(name);
    TableEntry existing = manifest.tables().get(n);
    List<ColumnDef> columns;
    switch (mode) {
      case CREATE -> {
        if (existing != null) {
          throw tableExists(n);
        }
        columns = ArrowColumns.validateColumns(n, cols);
      }
      case REPLACE -> columns = ArrowColumns.validateColumns(n, cols);
      case APPEND -> {
        if (existing == null) {
          throw noSuchTable(n);
        }
        if (cols != null && !cols.equals(existing.columns())) {
          throw new UserException(
              "cannot append to table '"
                  + n
                  + "': its columns are "
                  + existing.columns()
                  + " but the rows have "
                  + cols);
        }
        columns = existing.columns();
      }
      default -> throw new IllegalStateException("write mode " + mode);
    }
    try {
      return new TableWriter(this, n, columns, mode, dir.resolve(TABLES_DIR));
    } catch (IOException e) {
      throw storageError("starting to write table '" + n + "'", e);
    }
  }

  /** Called by {@link TableWriter#commit()} with its finished temp file. */
  TableInfo commitWrittenTable(
      String name, List<ColumnDef> columns, WriteMode mode, Path written, TableFiles.Written stats)
      throws IOException {
    if (mode == WriteMode.APPEND) {
      return appendTable(name, columns, written);
    }
    Path file = newDataFile(TABLES_DIR, name, TABLE_SUFFIX);
    AtomicFiles.commit(written, file);
    TableEntry entry =
        new TableEntry(
            name,
            columns,
            relative(file),
            stats.rows(),
            stats.bytes(),
            stats.crc32c(),
            Instant.now());
    commitWithFile(
        file,
        m -> {
          if (mode == WriteMode.CREATE && m.tables().containsKey(name)) {
            throw tableExists(name);
          }
          return m.withTable(entry);
        });
    return info(entry);
  }

  /** Thrown inside a commit when the base of an append moved; the append is redone. */
  private static final class BaseChanged extends RuntimeException {
    BaseChanged() {
      super(null, null, false, false);
    }
  }

  /**
   * Rewrites a table as its current rows followed by the rows in {@code pending}, then commits the
   * new file if no other commit changed the table meanwhile (otherwise starts over from the new
   * contents, so concurrent appends never lose rows).
   */
  private TableInfo appendTable(String name, List<ColumnDef> columns, Path pending)
      throws IOException {
    while (true) {
      TableEntry base = manifest.tables().get(name);
      if (base == null) {
        throw new UserException("table '" + name + "' was dropped while rows were being appended");
      }
      if (!base.columns().equals(columns)) {
        throw new UserException(
            "table '" + name + "' was replaced with other columns while rows were being appended");
      }
      Path merged = AtomicFiles.tempPath(dir.resolve(TABLES_DIR), "append-" + safeFileName(name));
      TableFiles.Written stats;
      try (BufferAllocator alloc =
              allocator.newChildAllocator("append:" + name, 0, Long.MAX_VALUE);
          VectorSchemaRoot root = VectorSchemaRoot.create(ArrowColumns.toSchema(columns), alloc);
          TableFiles.Sink sink = new TableFiles.Sink(merged, root)) {
        try (TableReader old = openTable(base)) {
          old.batches().forEach(b -> copyLoaded(b, root, sink));
        }
        try (FileChannel ch = FileChannel.open(pending, StandardOpenOption.READ);
            ArrowFileReader fresh = new ArrowFileReader(ch, alloc)) {
          TableFiles.copyBatches(fresh, root, sink);
        }
        stats = sink.finish();
      } catch (NoSuchFileException e) {
        Files.deleteIfExists(merged);
        if (manifest.tables().get(name) != base) {
          continue; // A concurrent commit replaced (and deleted) the base file: start over.
        }
        throw e;
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(merged);
        throw e;
      }
      Path file = newDataFile(TABLES_DIR, name, TABLE_SUFFIX);
      AtomicFiles.commit(merged, file);
      TableEntry entry =
          new TableEntry(
              name,
              columns,
              relative(file),
              stats.rows(),
              stats.bytes(),
              stats.crc32c(),
              base.created());
      try {
        commitWithFile(
            file,
            m -> {
              TableEntry now = m.tables().get(name);
              if (now == null || !now.file().equals(base.file())) {
                throw new BaseChanged();
              }
              return m.withTable(entry);
            });
        return info(entry);
      } catch (BaseChanged e) {
        // Another writer committed first; redo the merge on top of its result.
      }
    }
  }

  private static void copyLoaded(
      VectorSchemaRoot from, VectorSchemaRoot into, TableFiles.Sink sink) {
    try (ArrowRecordBatch batch = new VectorUnloader(from).getRecordBatch()) {
      new VectorLoader(into).load(batch);
      sink.writeBatch(into);
    } catch (IOException e) {
      throw storageError("appending to a table", e);
    }
  }

  /**
   * Opens a committed table for reading.
   *
   * @throws UserException if there is no such table or its data file is missing or corrupt
   */
  public TableReader readTable(String name) {
    checkOpen();
    String n = normalize(name);
    return readCommitted(
        m -> {
          TableEntry e = m.tables().get(n);
          if (e == null) {
            throw noSuchTable(n);
          }
          return e;
        },
        TableEntry::file,
        (entry, path) -> openTable(entry));
  }

  private TableReader openTable(TableEntry e) throws IOException {
    return TableReader.open(dir.resolve(e.file()), info(e), e.bytes(), e.crc32c(), allocator);
  }

  /**
   * Drops a table.
   *
   * @return false if {@code ifExists} and there was no such table
   */
  public boolean dropTable(String name, boolean ifExists) {
    String n = normalize(name);
    boolean[] dropped = {false};
    commit(
        m -> {
          if (!m.tables().containsKey(n)) {
            if (ifExists) {
              return m;
            }
            throw noSuchTable(n);
          }
          dropped[0] = true;
          return m.withoutTable(n);
        });
    return dropped[0];
  }

  private static TableInfo info(TableEntry e) {
    return new TableInfo(e.name(), e.columns(), e.rowCount(), e.bytes(), e.created());
  }

  // ---------------------------------------------------------------------------------------
  // Models

  /** All models, by name. */
  public List<ModelInfo> models() {
    return manifest.models().values().stream().map(ModelEntry::info).toList();
  }

  /** The model of that name (case-insensitive), if it exists. */
  public Optional<ModelInfo> model(String name) {
    return Optional.ofNullable(manifest.models().get(normalize(name))).map(ModelEntry::info);
  }

  /**
   * Records a model definition without weights (status DEFINED). With {@code replace}, an existing
   * model of that name is dropped together with its weights and checkpoint.
   *
   * @throws UserException if the name is taken and {@code replace} is false
   */
  public ModelInfo createModel(ModelInfo info, boolean replace) {
    ModelInfo defined = info.toBuilder().status(ModelStatus.DEFINED).sizeBytes(0).build();
    commit(
        m -> {
          if (!replace && m.models().containsKey(defined.name())) {
            throw new UserException(
                "model '"
                    + defined.name()
                    + "' already exists; use CREATE OR REPLACE MODEL or DROP"
                    + " MODEL first");
          }
          return m.withoutModel(defined.name()).withModel(new ModelEntry(defined, null));
        });
    return defined;
  }

  /**
   * Saves a model's weights and metadata in one atomic step: the weights file is written first,
   * then the manifest entry pointing at it is committed. The stored info gets status TRAINED and
   * the weights file's size; an earlier version of the model and its weights are replaced (its
   * checkpoint is kept: the trainer deletes it when it is done).
   */
  public ModelInfo saveModel(ModelInfo info, WeightSet weights) {
    checkOpen();
    Path file = newDataFile(MODELS_DIR, info.name(), WEIGHTS_SUFFIX);
    long size;
    try {
      size = WeightFiles.write(file, weights, Map.of());
    } catch (IOException e) {
      throw storageError("writing weights of model '" + info.name() + "'", e);
    }
    ModelInfo saved = info.toBuilder().status(ModelStatus.TRAINED).sizeBytes(size).build();
    commitWithFile(file, m -> m.withModel(new ModelEntry(saved, relative(file))));
    return saved;
  }

  /**
   * Loads a model's weights, verifying the file's checksum.
   *
   * @throws UserException if the model does not exist, has no weights yet, or the file is corrupt
   */
  public WeightSet loadWeights(String model) {
    checkOpen();
    String n = normalize(model);
    return readCommitted(
        m -> {
          ModelEntry e = m.models().get(n);
          if (e == null) {
            throw noSuchModel(n);
          }
          if (e.weightsFile() == null) {
            throw new UserException(
                "model '" + n + "' has no weights yet; run TRAIN MODEL " + n + " first");
          }
          return e;
        },
        ModelEntry::weightsFile,
        (e, path) -> WeightFiles.read(path).weights());
  }

  /**
   * Replaces a model's metadata (e.g. after EVALUATE). Status and size on disk stay as the catalog
   * recorded them, since they describe the weights file, which this does not touch.
   */
  public ModelInfo updateModelInfo(ModelInfo info) {
    ModelInfo[] result = new ModelInfo[1];
    commit(
        m -> {
          ModelEntry e = m.models().get(info.name());
          if (e == null) {
            throw noSuchModel(info.name());
          }
          result[0] =
              info.toBuilder().status(e.info().status()).sizeBytes(e.info().sizeBytes()).build();
          return m.withModel(new ModelEntry(result[0], e.weightsFile()));
        });
    return result[0];
  }

  /**
   * Drops a model with its weights and checkpoint.
   *
   * @return false if {@code ifExists} and there was no such model
   */
  public boolean dropModel(String name, boolean ifExists) {
    String n = normalize(name);
    boolean[] dropped = {false};
    commit(
        m -> {
          if (!m.models().containsKey(n)) {
            if (ifExists) {
              return m;
            }
            throw noSuchModel(n);
          }
          dropped[0] = true;
          return m.withoutModel(n);
        });
    return dropped[0];
  }

  // ---------------------------------------------------------------------------------------
  // Checkpoints

  /**
   * Saves the training state after a completed epoch, atomically replacing the model's previous
   * checkpoint: a crash at any point leaves either the old or the new checkpoint loadable.
   */
  public void saveCheckpoint(String model, int epoch, WeightSet state, Map<String, String> meta) {
    checkOpen();
    String n = normalize(model);
    if (!manifest.models().containsKey(n)) {
      throw noSuchModel(n);
    }
    Path file = newDataFile(CHECKPOINTS_DIR, n, CHECKPOINT_SUFFIX);
    Map<String, String> fileMeta = new HashMap<>(meta);
    fileMeta.put(EPOCH_META_KEY, Integer.toString(epoch));
    long size;
    try {
      size = WeightFiles.write(file, state, fileMeta);
    } catch (IOException e) {
      throw storageError("writing checkpoint of model '" + n + "'", e);
    }
    CheckpointEntry entry = new CheckpointEntry(n, epoch, relative(file), size, Instant.now());
    commitWithFile(
        file,
        m -> {
          if (!m.models().containsKey(n)) {
            throw noSuchModel(n);
          }
          return m.withCheckpoint(entry);
        });
  }

  /** The model's latest checkpoint, loaded and verified, if there is one. */
  public Optional<Checkpoint> checkpoint(String model) {
    checkOpen();
    String n = normalize(model);
    if (!manifest.checkpoints().containsKey(n)) {
      return Optional.empty();
    }
    return Optional.ofNullable(
        readCommitted(
            m -> m.checkpoints().get(n),
            CheckpointEntry::file,
            (e, path) -> {
              WeightFiles.Contents c = WeightFiles.read(path);
              Map<String, String> meta = new HashMap<>(c.meta());
              meta.remove(EPOCH_META_KEY);
              return new Checkpoint(n, e.epoch(), c.weights(), meta, e.saved());
            }));
  }

  /**
   * Deletes a model's checkpoint (after training finished).
   *
   * @return whether there was one
   */
  public boolean deleteCheckpoint(String model) {
    String n = normalize(model);
    boolean[] deleted = {false};
    commit(
        m -> {
          deleted[0] = m.checkpoints().containsKey(n);
          return deleted[0] ? m.withoutCheckpoint(n) : m;
        });
    return deleted[0];
  }

  // ---------------------------------------------------------------------------------------
  // Training log and tuning records

  /** Appends one epoch row to the durable training log. */
  public void appendTrainingLog(TrainingLogRow row) {
    checkOpen();
    try {
      trainingLog.append(row);
    } catch (IOException e) {
      throw storageError("appending to " + trainingLog.file(), e);
    }
  }

  /** Every training log row, in the order appended. */
  public List<TrainingLogRow> trainingLog() {
    return trainingLog.rows();
  }

  /** Stores (or replaces) one tuning record, e.g. a measured kernel time for a shape. */
  public void putTuningRecord(String key, Map<String, String> values) {
    putTuningRecords(Map.of(key, values));
  }

  /** Stores several tuning records in one commit. */
  public void putTuningRecords(Map<String, Map<String, String>> records) {
    commit(m -> m.withTuningRecords(records));
  }

  /** All tuning records, by key. */
  public Map<String, Map<String, String>> tuningRecords() {
    return manifest.tuningRecords();
  }

  // ---------------------------------------------------------------------------------------
  // Commit and read machinery

  /**
   * Applies a change to the manifest and makes it durable. The change runs under the commit lock
   * against the latest state, so its checks (name taken, table still there) cannot race. Files the
   * old state referenced and the new one does not are deleted afterwards.
   */
  private void commit(UnaryOperator<Manifest> change) {
    checkOpen();
    commitLock.lock();
    try {
      Manifest old = manifest;
      Manifest changed = change.apply(old);
      if (changed == old) {
        return;
      }
      Manifest next = changed.nextGeneration();
      try {
        next.write(dir);
      } catch (IOException e) {
        throw storageError("writing " + dir.resolve(Manifest.FILE_NAME), e);
      }
      manifest = next;
      Set<String> live = next.referencedFiles();
      for (String f : old.referencedFiles()) {
        if (!live.contains(f)) {
          // An open reader keeps its descriptor, so deleting under it is safe on POSIX; a
          // failure here only leaves garbage that the next open collects.
          try {
            Files.deleteIfExists(dir.resolve(f));
          } catch (IOException e) {
            // Collected at the next open.
          }
        }
      }
    } finally {
      commitLock.unlock();
    }
  }

  /**
   * {@link #commit} for a change that publishes a freshly written file; a rejected change deletes
   * it.
   */
  private void commitWithFile(Path file, UnaryOperator<Manifest> change) {
    boolean[] applied = {false};
    try {
      commit(
          m -> {
            Manifest next = change.apply(m);
            applied[0] = true;
            return next;
          });
    } catch (RuntimeException e) {
      if (!applied[0]) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // Collected at the next open.
        }
      }
      throw e;
    }
  }

  private interface FileReading<E, T> {
    T read(E entry, Path file) throws IOException;
  }

  /**
   * Reads the file a committed entry points at. A commit may delete that file between looking up
   * the entry and opening it; then the manifest has changed and the lookup is repeated.
   */
  private <E, T> T readCommitted(
      Function<Manifest, E> locate, Function<E, String> fileOf, FileReading<E, T> read) {
    while (true) {
      Manifest m = manifest;
      E entry = locate.apply(m);
      if (entry == null) {
        return null;
      }
      Path file = dir.resolve(fileOf.apply(entry));
      try {
        return read.read(entry, file);
      } catch (NoSuchFileException e) {
        if (manifest == m) {
          throw new UserException(
              "file "
                  + file
                  + " is missing from the data directory; restore it from a backup or"
                  + " drop the object that uses it");
        }
      } catch (IOException e) {
        throw storageError("reading " + file, e);
      }
    }
  }

  private Path newDataFile(String sub, String name, String suffix) {
    return dir.resolve(sub).resolve(safeFileName(name) + "-" + UUID.randomUUID() + suffix);
  }

  private String relative(Path file) {
    return dir.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
  }

  /** A file-name-safe form of an object name (names may be quoted identifiers). */
  static String safeFileName(String name) {
    String s = name.replaceAll("[^a-z0-9_]", "_");
    return s.length() > MAX_FILE_NAME_PREFIX ? s.substring(0, MAX_FILE_NAME_PREFIX) : s;
  }

  /** Catalog names are case-insensitive: stored and looked up in lower case. */
  static String normalize(String name) {
    if (name == null || name.isBlank()) {
      throw new UserException("a name must not be empty");
    }
    return name.toLowerCase(Locale.ROOT);
  }

  /** A storage failure (disk full, permissions) as an error the user can act on. */
  static UserException storageError(String what, IOException e) {
    String reason =
        e instanceof FileAlreadyExistsException ? "file exists: " + e.getMessage() : e.toString();
    return new UserException("storage error while " + what + ": " + reason, e);
  }

  private static UserException noSuchTable(String name) {
    return new UserException("table '" + name + "' does not exist");
  }

  private static UserException tableExists(String name) {
    return new UserException(
        "table '"
            + name
            + "' already exists; use CREATE OR REPLACE TABLE, IF NOT EXISTS, or DROP"
            + " TABLE first");
  }

  private static UserException noSuchModel(String name) {
    return new UserException("model '" + name + "' does not exist");
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("catalog " + dir + " is closed");
    }
  }

  /**
   * Closes the catalog and releases the directory lock. Readers and writers must be closed first:
   * the allocator reports any memory still held by them.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      allocator.close();
    } finally {
      closeQuietly(trainingLog);
      closeQuietly(lock);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // Closing during cleanup; the original failure matters more.
    }
  }
}
