package io.dlsql.jdbc;

import io.dlsql.catalog.ModelInfo;
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

/**
 * A query's rows loaded for a model: the input tensors copied into one off-heap block (uint8 or
 * float32, as the data holds them), the labels checked against the model's classes, and for
 * PREDICT the other columns kept to pass through.
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
      byte[] image = rs.getBytes(input + 1);
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
