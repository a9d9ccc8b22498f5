package io.dlsql.jdbc;

import java.util.List;
import java.util.function.Supplier;
import org.apache.calcite.DataContext;
import org.apache.calcite.linq4j.Enumerable;
import org.apache.calcite.linq4j.Linq4j;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.schema.ScannableTable;
import org.apache.calcite.schema.Schema;
import org.apache.calcite.schema.impl.AbstractTable;

/**
 * A table whose rows are held in memory or computed at each scan: statement results served
 * through Calcite, materialized table expressions (PREDICT, read_idx, read_csv) and the system
 * tables. Values are in Calcite's internal representation (see {@link CalciteValues}).
 */
final class RowsTable extends AbstractTable implements ScannableTable {
  private final List<ResultRows.Column> columns;
  private final Supplier<List<Object[]>> rows;
  private final Schema.TableType tableType;

  RowsTable(ResultRows rows) {
    this(rows.columns(), rows::rows, Schema.TableType.TEMPORARY_TABLE);
  }

  RowsTable(List<ResultRows.Column> columns, Supplier<List<Object[]>> rows, Schema.TableType tableType) {
    this.columns = columns;
    this.rows = rows;
    this.tableType = tableType;
  }

  List<ResultRows.Column> columns() {
    return columns;
  }

  @Override
  public RelDataType getRowType(RelDataTypeFactory typeFactory) {
    RelDataTypeFactory.Builder builder = typeFactory.builder();
    for (ResultRows.Column c : columns) {
      RelDataType type = typeFactory.createSqlType(c.type());
      builder.add(c.name(), typeFactory.createTypeWithNullability(type, c.nullable()));
    }
    return builder.build();
  }

  @Override
  public Schema.TableType getJdbcTableType() {
    return tableType;
  }

  @Override
  public Enumerable<Object[]> scan(DataContext root) {
    return Linq4j.asEnumerable(rows.get());
  }
}
