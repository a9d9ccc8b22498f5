package io.dlsql.jdbc;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.RowIterator;
import io.dlsql.catalog.TableInfo;
import io.dlsql.catalog.TableReader;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.calcite.DataContext;
import org.apache.calcite.linq4j.AbstractEnumerable;
import org.apache.calcite.linq4j.Enumerable;
import org.apache.calcite.linq4j.Enumerator;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.rel.type.RelDataTypeFactory;
import org.apache.calcite.schema.ScannableTable;
import org.apache.calcite.schema.Statistic;
import org.apache.calcite.schema.Statistics;
import org.apache.calcite.schema.Table;
import org.apache.calcite.schema.impl.AbstractSchema;
import org.apache.calcite.schema.impl.AbstractTable;

/** The catalog's tables as Calcite's default schema {@code main}, looked up afresh per query. */
final class CatalogSchema extends AbstractSchema {
  private final Catalog catalog;

  CatalogSchema(Catalog catalog) {
    this.catalog = catalog;
  }

  @Override
  protected Map<String, Table> getTableMap() {
    Map<String, Table> tables = new LinkedHashMap<>();
    for (TableInfo info : catalog.tables()) {
      tables.put(info.name(), new CatalogTable(catalog, info));
    }
    return tables;
  }

  /** One catalog table, scanned row by row from its Arrow IPC file. */
  static final class CatalogTable extends AbstractTable implements ScannableTable {
    private final Catalog catalog;
    private final TableInfo info;

    CatalogTable(Catalog catalog, TableInfo info) {
      this.catalog = catalog;
      this.info = info;
    }

    TableInfo info() {
      return info;
    }

    @Override
    public RelDataType getRowType(RelDataTypeFactory typeFactory) {
      RelDataTypeFactory.Builder builder = typeFactory.builder();
      for (ColumnDef c : info.columns()) {
        RelDataType type = typeFactory.createSqlType(CalciteValues.sqlType(c.type()));
        builder.add(c.name(), typeFactory.createTypeWithNullability(type, c.nullable()));
      }
      return builder.build();
    }

    @Override
    public Statistic getStatistic() {
      return Statistics.of(info.rowCount(), java.util.List.of());
    }

    @Override
    public Enumerable<Object[]> scan(DataContext root) {
      return new AbstractEnumerable<>() {
        @Override
        public Enumerator<Object[]> enumerator() {
          TableReader reader = catalog.readTable(info.name());
          RowIterator rows = reader.rows();
          return new Enumerator<>() {
            private Object[] current;

            @Override
            public Object[] current() {
              return current;
            }

            @Override
            public boolean moveNext() {
              if (!rows.hasNext()) {
                return false;
              }
              current = CalciteValues.toInternalRow(rows.next());
              return true;
            }

            @Override
            public void reset() {
              throw new UnsupportedOperationException("table scans cannot be reset");
            }

            @Override
            public void close() {
              rows.close();
              reader.close();
            }
          };
        }
      };
    }
  }
}
