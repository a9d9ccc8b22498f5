package io.dlsql.jdbc;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.ColumnType;
import io.dlsql.catalog.ElementType;
import io.dlsql.catalog.ScalarType;
import io.dlsql.catalog.TableInfo;
import io.dlsql.catalog.TableWriter;
import io.dlsql.catalog.TensorType;
import io.dlsql.catalog.UserException;
import io.dlsql.catalog.WriteMode;
import io.dlsql.parser.SqlColumnDeclaration;
import io.dlsql.parser.SqlCreateTable;
import io.dlsql.parser.SqlDropTable;
import io.dlsql.parser.SqlTensorTypeNameSpec;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.calcite.sql.SqlDescribeTable;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlInsert;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.type.SqlTypeName;

/** CREATE TABLE [AS], INSERT, DROP TABLE, SHOW TABLES and DESCRIBE over the catalog. */
final class TableStatements {
  private static final int CANCEL_CHECK_MASK = 1023;

  private final Session session;

  TableStatements(Session session) {
    this.session = session;
  }

  private Catalog catalog() {
    return session.catalog();
  }

  static String simpleName(SqlIdentifier id) {
    if (id.names.size() == 2 && id.names.get(0).equalsIgnoreCase(Engine.MAIN_SCHEMA)) {
      return id.names.get(1).toLowerCase(Locale.ROOT);
    }
    if (!id.isSimple()) {
      throw new UserException("'" + id + "' is not a table of the catalog; catalog names have one part (or main.name)");
    }
    return id.getSimple().toLowerCase(Locale.ROOT);
  }

  Session.Outcome create(SqlCreateTable create, Execution execution) throws SQLException {
    String name = simpleName(create.name());
    boolean exists = catalog().table(name).isPresent();
    if (exists && create.ifNotExists()) {
      return new Session.Outcome.Update(0);
    }
    if (exists && !create.replace()) {
      throw new UserException("table '" + name + "' already exists (use CREATE OR REPLACE TABLE to replace it)");
    }
    if (catalog().model(name).isPresent()) {
      throw new UserException("'" + name + "' is already the name of a model");
    }
    if (create.query().isEmpty()) {
      List<ColumnDef> columns = new ArrayList<>();
      for (SqlColumnDeclaration c : create.columns()) {
        columns.add(new ColumnDef(c.name(), columnType(c), c.nullable()));
      }
      catalog().createTable(name, columns, create.replace(), create.ifNotExists());
      return new Session.Outcome.Update(0);
    }
    try (Session.QueryRun run = session.openQuery(create.query().get(), execution)) {
      List<ColumnDef> columns = resultColumns(run, create.columns());
      WriteMode mode = exists ? WriteMode.REPLACE : WriteMode.CREATE;
      long rows = copyRows(run, columns, catalog().writeTable(name, columns, mode), execution, null);
      return new Session.Outcome.Update(rows);
    }
  }

  static ColumnType columnType(SqlColumnDeclaration column) {
    if (column.tensorType().isPresent()) {
      return tensorType(column.tensorType().get());
    }
    return ScalarType.parse(column.dataType().getTypeName().getSimple());
  }

  static TensorType tensorType(SqlTensorTypeNameSpec spec) {
    ElementType element = switch (spec.elementType()) {
      case UINT8 -> ElementType.UINT8;
      case FLOAT -> ElementType.FLOAT32;
    };
    return new TensorType(spec.dims(), element);
  }

  /** Catalog columns for a query result; an explicit column list renames them. */
  private static List<ColumnDef> resultColumns(Session.QueryRun run, List<SqlColumnDeclaration> names)
      throws SQLException {
    ResultSetMetaData md = run.resultSet().getMetaData();
    int count = md.getColumnCount();
    if (!names.isEmpty() && names.size() != count) {
      throw new UserException("the column list names " + names.size() + " columns but the query returns " + count);
    }
    List<ColumnDef> columns = new ArrayList<>();
    for (int c = 1; c <= count; c++) {
      String name = names.isEmpty() ? run.columnNames().get(c - 1) : names.get(c - 1).name();
      ColumnType type = !names.isEmpty() && names.get(c - 1).dataType() != null
          ? columnType(names.get(c - 1))
          : CalciteValues.columnType(name, md.getColumnType(c), md.getColumnTypeName(c), run.tensorType(c - 1));
      columns.add(ColumnDef.of(name, type));
    }
    return columns;
  }

  /**
   * Copies the query's rows into a table writer and commits it; {@code targets} maps each query
   * column to a table column position (null: the same position).
   */
  private static long copyRows(Session.QueryRun run, List<ColumnDef> columns, TableWriter writer,
      Execution execution, int[] targets) throws SQLException {
    try (writer) {
      ResultSet rs = run.resultSet();
      int count = rs.getMetaData().getColumnCount();
      long rows = 0;
      while (rs.next()) {
        Object[] row = new Object[columns.size()];
        for (int c = 0; c < count; c++) {
          int target = targets == null ? c : targets[c];
          ColumnDef column = columns.get(target);
          row[target] = CalciteValues.toCatalog(rs.getObject(c + 1), column, rows + 1);
        }
        writer.appendRow(row);
        if ((++rows & CANCEL_CHECK_MASK) == 0) {
          execution.checkCancelled();
        }
      }
      execution.checkCancelled();
      writer.commit();
      return rows;
    }
  }

  Session.Outcome insert(SqlInsert insert, Execution execution) throws SQLException {
    if (!(insert.getTargetTable() instanceof SqlIdentifier target)) {
      throw new UserException("INSERT needs a table name as its target");
    }
    String name = simpleName(target);
    TableInfo table = catalog().table(name)
        .orElseThrow(() -> new UserException("table '" + name + "' does not exist"));
    List<ColumnDef> columns = table.columns();
    SqlNodeList targetList = insert.getTargetColumnList();
    try (Session.QueryRun run = session.openQuery(insert.getSource(), execution)) {
      int count = run.resultSet().getMetaData().getColumnCount();
      int[] targets = new int[count];
      if (targetList == null) {
        if (count != columns.size()) {
          throw new UserException("table '" + name + "' has " + columns.size() + " columns but the INSERT supplies " + count
              + "; name the target columns: INSERT INTO " + name + " (col, ...)");
        }
        Arrays.setAll(targets, i -> i);
      } else {
        if (targetList.size() != count) {
          throw new UserException("INSERT names " + targetList.size() + " columns but supplies " + count + " values per row");
        }
        for (int i = 0; i < count; i++) {
          String column = ((SqlIdentifier) targetList.get(i)).getSimple().toLowerCase(Locale.ROOT);
          int position = indexOf(columns, column);
          if (position < 0) {
            throw new UserException("table '" + name + "' has no column '" + column + "'");
          }
          targets[i] = position;
        }
      }
      long rows = copyRows(run, columns, catalog().writeTable(name, columns, WriteMode.APPEND), execution, targets);
      return new Session.Outcome.Update(rows);
    }
  }

  private static int indexOf(List<ColumnDef> columns, String name) {
    for (int i = 0; i < columns.size(); i++) {
      if (columns.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  Session.Outcome drop(SqlDropTable drop) {
    String name = simpleName(drop.name());
    if (!catalog().dropTable(name, drop.ifExists()) && !drop.ifExists()) {
      throw new UserException("table '" + name + "' does not exist");
    }
    return new Session.Outcome.Update(0);
  }

  ResultRows show() {
    ResultRows.Builder rows = ResultRows.builder()
        .column("name", SqlTypeName.VARCHAR)
        .column("column_count", SqlTypeName.INTEGER)
        .column("row_count", SqlTypeName.BIGINT)
        .column("bytes_on_disk", SqlTypeName.BIGINT);
    for (TableInfo t : catalog().tables()) {
      rows.row(t.name(), t.columns().size(), t.rowCount(), t.bytesOnDisk());
    }
    return rows.build();
  }

  ResultRows describe(SqlDescribeTable describe) {
    String name = simpleName(describe.getTable());
    TableInfo table = catalog().table(name)
        .orElseThrow(() -> new UserException("no table or model named '" + name + "'"));
    ResultRows.Builder rows = ResultRows.builder()
        .column("column_name", SqlTypeName.VARCHAR)
        .column("type", SqlTypeName.VARCHAR)
        .column("nullable", SqlTypeName.BOOLEAN);
    for (ColumnDef c : table.columns()) {
      rows.row(c.name(), c.type().sqlName(), c.nullable());
    }
    return rows.build();
  }
}
