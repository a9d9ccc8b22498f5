package io.dlsql.jdbc;

import io.dlsql.catalog.ArrowColumns;
import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.ElementType;
import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.TableInfo;
import io.dlsql.catalog.TableReader;
import io.dlsql.catalog.TensorBatch;
import io.dlsql.catalog.TensorType;
import io.dlsql.catalog.UserException;
import io.dlsql.executor.train.InMemoryDataset;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSelect;

/**
 * A query's rows loaded for a model: the input tensors copied into one off-heap block (uint8 or
 * float32, as the data holds them), the labels checked against the model's classes, and for
 * PREDICT the other columns kept to pass through. A plain scan of a catalog table skips SQL rows
 * altogether and copies the table's Arrow buffers.
 */
final class ModelInputs implements AutoCloseable {
  private static final int INITIAL_ROWS = 1024;
  private static final int CANCEL_CHECK_MASK = 1023;

  private final Arena arena;
  private final InMemoryDataset dataset;
  private final List<ResultRows.Column> columns;
  private final List<Object[]> rows;

  private ModelInputs(Arena arena, InMemoryDataset dataset, List<ResultRows.Column> columns, List<Object[]> rows) {
    this.arena = arena;
    this.dataset = dataset;
    this.columns = columns;
    this.rows = rows;
  }

  InMemoryDataset dataset() {
    return dataset;
  }

  int size() {
    return dataset.size();
  }

  /** The query's columns, for PREDICT's pass-through (empty unless {@code keepRows}). */
  List<ResultRows.Column> columns() {
    return columns;
  }

  /** The query's rows in Calcite's internal values (empty unless {@code keepRows}). */
  List<Object[]> rows() {
    return rows;
  }

  /**
   * Loads every row of {@code run}: the model's input column, its label column when {@code
   * labelled}, and all columns when {@code keepRows}.
   */
  static ModelInputs load(Session.QueryRun run, ModelInfo model, boolean labelled, boolean keepRows,
      Execution execution, String statement) throws SQLException {
    String inputName = model.inputName();
    int input = run.indexOf(inputName);
    int[] dims = model.inputDims();
    String expected = model.name() + " expects " + inputName + " " + SystemSchema.tensorText(dims);
    if (input < 0) {
      throw new UserException(statement + ": the query has no column '" + inputName + "' (" + expected
          + "); its columns are " + run.columnNames());
    }
    TensorType origin = run.tensorType(input);
    long elements = Arrays.stream(dims).asLongStream().reduce(1, (a, b) -> a * b);
    if (origin != null && origin.elementCount() != elements) {
      throw new UserException(statement + ": column '" + inputName + "' is " + origin.sqlName() + " but model " + expected);
    }
    int label = -1;
    if (labelled) {
      label = run.indexOf(model.labelColumn());
      if (label < 0) {
        throw new UserException(statement + ": the query has no label column '" + model.labelColumn()
            + "' (model " + model.name() + " predicts " + model.classes() + " classes into it); its columns are " + run.columnNames());
      }
    }
    ResultSet rs = run.resultSet();
    ResultSetMetaData md = rs.getMetaData();
    List<ResultRows.Column> columns = new ArrayList<>();
    if (keepRows) {
      for (int c = 1; c <= md.getColumnCount(); c++) {
        columns.add(new ResultRows.Column(run.columnNames().get(c - 1),
            org.apache.calcite.sql.type.SqlTypeName.getNameForJdbcType(md.getColumnType(c)), true));
      }
    }
    List<Object[]> rows = new ArrayList<>();
    byte[] data = new byte[0];
    int[] labels = new int[labelled ? INITIAL_ROWS : 0];
    int n = 0;
    long rowBytes = -1;
    while (rs.next()) {
      Object value = rs.getObject(input + 1);
      byte[] image = value == null ? null : CalciteValues.tensorBytes(value, inputName, n + 1);
      if (image == null) {
        throw new UserException(statement + ": row " + (n + 1) + " has a NULL " + inputName);
      }
      if (rowBytes < 0) {
        rowBytes = image.length;
        if (rowBytes != elements && rowBytes != elements * Float.BYTES) {
          throw new UserException(statement + ": column '" + inputName + "' holds " + rowBytes + " bytes per row, but model "
              + expected + ": " + elements + " bytes (UINT8) or " + elements * Float.BYTES + " bytes (FLOAT)");
        }
      } else if (image.length != rowBytes) {
        throw new UserException(statement + ": row " + (n + 1) + " has " + image.length + " bytes of " + inputName
            + " where earlier rows have " + rowBytes);
      }
      long needed = (n + 1L) * rowBytes;
      if (needed > Integer.MAX_VALUE - 8) {
        throw new UserException(statement + ": the query's images exceed 2 GB; train on fewer rows");
      }
      if (needed > data.length) {
        data = Arrays.copyOf(data, (int) Math.min(Integer.MAX_VALUE - 8, Math.max(needed, 2L * data.length)));
      }
      System.arraycopy(image, 0, data, (int) (n * rowBytes), (int) rowBytes);
      if (labelled) {
        if (n == labels.length) {
          labels = Arrays.copyOf(labels, 2 * labels.length);
        }
        labels[n] = label(rs.getObject(label + 1), n + 1, model, statement);
      }
      if (keepRows) {
        Object[] row = new Object[md.getColumnCount()];
        for (int c = 0; c < row.length; c++) {
          row[c] = CalciteValues.toInternal(c == input ? image : rs.getObject(c + 1));
        }
        rows.add(row);
      }
      if ((++n & CANCEL_CHECK_MASK) == 0) {
        execution.checkCancelled();
      }
    }
    Arena arena = Arena.ofShared();
    try {
      MemorySegment segment = arena.allocate(Math.max(1, n * Math.max(rowBytes, 0)), Float.BYTES);
      if (n > 0) {
        MemorySegment.copy(data, 0, segment, ValueLayout.JAVA_BYTE, 0, (int) (n * rowBytes));
      }
      int[] labelArray = labelled ? Arrays.copyOf(labels, n) : null;
      InMemoryDataset dataset = rowBytes == elements || n == 0
          ? InMemoryDataset.ofUint8(segment, n, dims, labelArray, InMemoryDataset.UINT8_TO_UNIT)
          : InMemoryDataset.ofFloat32(segment, n, dims, labelArray);
      return new ModelInputs(arena, dataset, columns, rows);
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /**
   * Loads a catalog table's input tensors by copying whole Arrow buffers into the off-heap block
   * (no per-row objects): the path for {@code ON t} and {@code ON (SELECT cols FROM t)}.
   */
  static ModelInputs loadTable(Catalog catalog, String table, ModelInfo model, boolean labelled,
      Execution execution, String statement) {
    TableInfo info = catalog.table(table).orElseThrow(() -> new UserException("table '" + table + "' does not exist"));
    String inputName = model.inputName();
    int[] dims = model.inputDims();
    String expected = model.name() + " expects " + inputName + " " + SystemSchema.tensorText(dims);
    ColumnDef input = info.column(inputName).orElseThrow(() -> new UserException(statement + ": table '" + table
        + "' has no column '" + inputName + "' (" + expected + ")"));
    long elements = Arrays.stream(dims).asLongStream().reduce(1, (a, b) -> a * b);
    if (!(input.type() instanceof TensorType tensor) || tensor.elementCount() != elements) {
      throw new UserException(statement + ": column '" + inputName + "' is " + input.type().sqlName() + " but model " + expected);
    }
    ColumnDef labelColumn = null;
    if (labelled) {
      labelColumn = info.column(model.labelColumn()).orElseThrow(() -> new UserException(statement + ": table '" + table
          + "' has no label column '" + model.labelColumn() + "'"));
    }
    long rowBytes = tensor.byteSize();
    long total = info.rowCount() * rowBytes;
    if (info.rowCount() > Integer.MAX_VALUE) {
      throw new UserException(statement + ": table '" + table + "' has more rows than one run can hold");
    }
    Arena arena = Arena.ofShared();
    try (TableReader reader = catalog.readTable(table)) {
      MemorySegment segment = arena.allocate(Math.max(1, total), Float.BYTES);
      int[] labels = labelled ? new int[(int) info.rowCount()] : null;
      int n = 0;
      for (int b = 0; b < reader.batchCount(); b++) {
        VectorSchemaRoot batch = reader.loadBatch(b);
        TensorBatch images = TensorBatch.of(batch, inputName);
        for (int r = 0; r < images.rowCount(); r++) {
          if (images.isNull(r)) {
            throw new UserException(statement + ": row " + (n + r + 1) + " has a NULL " + inputName);
          }
        }
        MemorySegment.copy(images.segment(), 0, segment, n * rowBytes, images.byteSize());
        if (labelled) {
          FieldVector vector = batch.getVector(labelColumn.name());
          for (int r = 0; r < images.rowCount(); r++) {
            labels[n + r] = label(ArrowColumns.get(vector, r, labelColumn.type()), n + r + 1, model, statement);
          }
        }
        n += images.rowCount();
        execution.checkCancelled();
      }
      InMemoryDataset dataset = tensor.elementType() == ElementType.UINT8
          ? InMemoryDataset.ofUint8(segment, n, dims, labels, InMemoryDataset.UINT8_TO_UNIT)
          : InMemoryDataset.ofFloat32(segment, n, dims, labels);
      return new ModelInputs(arena, dataset, List.of(), List.of());
    } catch (RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  /**
   * The catalog table a query reads whole and unchanged ({@code SELECT * | columns FROM t}, no
   * filter, grouping, ordering or limit), so its tensors can be copied in bulk; else null.
   */
  static String plainTableScan(SqlNode query, Catalog catalog, List<String> required) {
    if (!(query instanceof SqlSelect select) || !(select.getFrom() instanceof SqlIdentifier from)
        || select.getWhere() != null || select.getGroup() != null || select.getHaving() != null
        || select.getOrderList() != null && !select.getOrderList().isEmpty()
        || select.getFetch() != null || select.getOffset() != null || select.isDistinct()
        || select.getWindowList() != null && !select.getWindowList().isEmpty()) {
      return null;
    }
    boolean star = false;
    List<String> selected = new ArrayList<>();
    for (SqlNode item : select.getSelectList()) {
      if (!(item instanceof SqlIdentifier id) || !(id.isStar() || id.isSimple())) {
        return null;
      }
      star |= id.isStar();
      if (id.isSimple()) {
        selected.add(id.getSimple().toLowerCase(java.util.Locale.ROOT));
      }
    }
    // Without the columns the model needs, the row path reports what is missing.
    if (!star && !selected.containsAll(required)) {
      return null;
    }
    String table;
    try {
      table = TableStatements.simpleName(from);
    } catch (UserException e) {
      return null;
    }
    return catalog.table(table).isPresent() ? table : null;
  }

  private static int label(Object value, int row, ModelInfo model, String statement) {
    String column = model.labelColumn();
    if (value == null) {
      throw new UserException(statement + ": row " + row + " has a NULL label in column '" + column + "'");
    }
    if (!(value instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())) {
      throw new UserException(statement + ": label column '" + column + "' must hold integer classes, got '" + value + "' at row " + row);
    }
    long v = number.longValue();
    if (v < 0 || v >= model.classes()) {
      throw new UserException(statement + ": label " + v + " at row " + row + " is outside the model's classes 0.."
          + (model.classes() - 1));
    }
    return (int) v;
  }

  @Override
  public void close() {
    arena.close();
  }
}
