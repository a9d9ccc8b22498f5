package io.dlsql.jdbc;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.TableInfo;
import io.dlsql.catalog.TrainingLogRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.calcite.schema.Schema;
import org.apache.calcite.schema.Table;
import org.apache.calcite.schema.impl.AbstractSchema;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * The {@code sys} schema: the catalog's metadata and metrics as ordinary queryable tables
 * ({@code sys.tables}, {@code sys.columns}, {@code sys.models}, {@code sys.training_log}) and the
 * statements running now with their progress ({@code sys.progress}).
 */
final class SystemSchema extends AbstractSchema {
  private final Map<String, Table> tables = new LinkedHashMap<>();

  SystemSchema(Engine engine) {
    Catalog catalog = engine.catalog();
    add("tables", tablesColumns(), () -> tablesRows(catalog));
    add("columns", columnsColumns(), () -> columnsRows(catalog));
    add("models", modelsColumns(), () -> modelsRows(catalog));
    add("training_log", trainingLogColumns(), () -> trainingLogRows(catalog));
    add("progress", progressColumns(), () -> progressRows(engine));
  }

  private void add(String name, List<ResultRows.Column> columns, Supplier<List<Object[]>> rows) {
    tables.put(name, new RowsTable(columns, rows, Schema.TableType.SYSTEM_TABLE));
  }

  @Override
  protected Map<String, Table> getTableMap() {
    return tables;
  }

  private static List<ResultRows.Column> columns(Object... nameTypePairs) {
    List<ResultRows.Column> columns = new ArrayList<>();
    for (int i = 0; i < nameTypePairs.length; i += 2) {
      columns.add(new ResultRows.Column((String) nameTypePairs[i], (SqlTypeName) nameTypePairs[i + 1], true));
    }
    return List.copyOf(columns);
  }

  private static Long millis(Instant t) {
    return t == null ? null : t.toEpochMilli();
  }

  static List<ResultRows.Column> tablesColumns() {
    return columns("name", SqlTypeName.VARCHAR, "column_count", SqlTypeName.INTEGER, "row_count", SqlTypeName.BIGINT,
        "bytes_on_disk", SqlTypeName.BIGINT, "created", SqlTypeName.TIMESTAMP);
  }

  private static List<Object[]> tablesRows(Catalog catalog) {
    List<Object[]> rows = new ArrayList<>();
    for (TableInfo t : catalog.tables()) {
      rows.add(new Object[] {t.name(), t.columns().size(), t.rowCount(), t.bytesOnDisk(), millis(t.created())});
    }
    return rows;
  }

  private static List<ResultRows.Column> columnsColumns() {
    return columns("table_name", SqlTypeName.VARCHAR, "column_name", SqlTypeName.VARCHAR,
        "ordinal_position", SqlTypeName.INTEGER, "type", SqlTypeName.VARCHAR, "nullable", SqlTypeName.BOOLEAN);
  }

  private static List<Object[]> columnsRows(Catalog catalog) {
    List<Object[]> rows = new ArrayList<>();
    for (TableInfo t : catalog.tables()) {
      int ordinal = 1;
      for (ColumnDef c : t.columns()) {
        rows.add(new Object[] {t.name(), c.name(), ordinal++, c.type().sqlName(), c.nullable()});
      }
    }
    return rows;
  }

  static List<ResultRows.Column> modelsColumns() {
    return columns("name", SqlTypeName.VARCHAR, "kind", SqlTypeName.VARCHAR, "status", SqlTypeName.VARCHAR,
        "parent", SqlTypeName.VARCHAR, "input", SqlTypeName.VARCHAR, "output", SqlTypeName.VARCHAR,
        "classes", SqlTypeName.INTEGER, "parameters", SqlTypeName.BIGINT, "size_bytes", SqlTypeName.BIGINT,
        "epochs_trained", SqlTypeName.INTEGER, "train_loss", SqlTypeName.DOUBLE, "accuracy", SqlTypeName.DOUBLE,
        "loss", SqlTypeName.DOUBLE, "latency_ms", SqlTypeName.DOUBLE, "throughput", SqlTypeName.DOUBLE,
        "peak_memory_bytes", SqlTypeName.BIGINT, "created", SqlTypeName.TIMESTAMP,
        "statement", SqlTypeName.VARCHAR, "definition", SqlTypeName.VARCHAR, "properties", SqlTypeName.VARCHAR);
  }

  static Object[] modelRow(ModelInfo m) {
    return new Object[] {
      m.name(), m.kind(), m.status().name(), m.parent(),
      m.inputName() + " " + tensorText(m.inputDims()), m.labelColumn(), m.classes(), m.parameterCount(),
      m.sizeBytes(), m.epochsTrained(), m.lastTrainLoss(), m.accuracy(), m.loss(), m.latencyMs(),
      m.throughput(), m.peakMemoryBytes(), millis(m.created()), m.statement(), m.definition(),
      propertiesText(m.properties())
    };
  }

  /** A model's further facts (compression method and options, ...) as {@code key=value} pairs in key order. */
  static String propertiesText(Map<String, String> properties) {
    StringBuilder sb = new StringBuilder();
    new java.util.TreeMap<>(properties).forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(v));
    return sb.toString();
  }

  static String tensorText(int[] dims) {
    return "TENSOR" + Arrays.toString(dims).replace('[', '(').replace(']', ')');
  }

  private static List<Object[]> modelsRows(Catalog catalog) {
    return catalog.models().stream().map(SystemSchema::modelRow).toList();
  }

  private static List<ResultRows.Column> trainingLogColumns() {
    return columns("model", SqlTypeName.VARCHAR, "run_id", SqlTypeName.VARCHAR, "epoch", SqlTypeName.INTEGER,
        "train_loss", SqlTypeName.DOUBLE, "train_accuracy", SqlTypeName.DOUBLE,
        "val_loss", SqlTypeName.DOUBLE, "val_accuracy", SqlTypeName.DOUBLE,
        "learning_rate", SqlTypeName.DOUBLE, "seconds", SqlTypeName.DOUBLE,
        "images_per_sec", SqlTypeName.DOUBLE, "peak_memory_bytes", SqlTypeName.BIGINT,
        "finished", SqlTypeName.TIMESTAMP);
  }

  private static List<Object[]> trainingLogRows(Catalog catalog) {
    List<Object[]> rows = new ArrayList<>();
    for (TrainingLogRow r : catalog.trainingLog()) {
      rows.add(new Object[] {
        r.model(), r.runId(), r.epoch(), r.trainLoss(), r.trainAccuracy(), r.validationLoss(),
        r.validationAccuracy(), r.learningRate(), r.seconds(), r.imagesPerSecond(), r.peakMemoryBytes(),
        millis(r.finished())
      });
    }
    return rows;
  }

  private static List<ResultRows.Column> progressColumns() {
    return columns("statement_id", SqlTypeName.BIGINT, "statement", SqlTypeName.VARCHAR,
        "phase", SqlTypeName.VARCHAR, "model", SqlTypeName.VARCHAR, "epoch", SqlTypeName.INTEGER,
        "epochs", SqlTypeName.INTEGER, "batch", SqlTypeName.INTEGER, "batches", SqlTypeName.INTEGER,
        "loss", SqlTypeName.DOUBLE, "images_per_sec", SqlTypeName.DOUBLE, "elapsed_s", SqlTypeName.DOUBLE,
        "eta_s", SqlTypeName.DOUBLE);
  }

  private static List<Object[]> progressRows(Engine engine) {
    List<Object[]> rows = new ArrayList<>();
    for (Execution e : engine.running()) {
      Execution.Progress p = e.progress();
      rows.add(new Object[] {
        e.id(), e.sql(), p.phase(), p.model(), p.epoch(), p.epochs(), p.batch(), p.batches(),
        finite(p.loss()), p.imagesPerSec(), e.elapsedSeconds(), finite(p.etaSeconds())
      });
    }
    return rows;
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
