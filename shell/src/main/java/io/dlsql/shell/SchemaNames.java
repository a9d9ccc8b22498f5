package io.dlsql.shell;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A snapshot of the names completion offers: tables and their columns from
 * {@link DatabaseMetaData}, model names from {@code SHOW MODELS}, and the server's own extra
 * keywords. Loading never fails: what a server cannot tell is simply left out.
 */
record SchemaNames(
    String currentSchema,
    List<TableName> tables,
    Map<String, List<String>> columnsByTable,
    List<String> models,
    List<String> serverKeywords) {
  static final SchemaNames EMPTY = new SchemaNames(null, List.of(), Map.of(), List.of(), List.of());

  /** The statement that lists models; its column {@link #MODEL_NAME_COLUMN} holds the names. */
  static final String SHOW_MODELS = "SHOW MODELS";

  static final String MODEL_NAME_COLUMN = "name";

  private static final Set<String> SYSTEM_SCHEMAS =
      Set.of("information_schema", "metadata", "pg_catalog");
  private static final String ANY_NAME = "%";
  /** dlsql lists models in its metadata too; completion takes them from SHOW MODELS instead. */
  private static final String MODEL_TABLE_TYPE = "MODEL";

  SchemaNames {
    tables = List.copyOf(tables);
    columnsByTable = Map.copyOf(columnsByTable);
    models = List.copyOf(models);
    serverKeywords = List.copyOf(serverKeywords);
  }

  /** A table and the schema it lives in ({@code null} when the server has no schemas). */
  record TableName(String schema, String name) {}

  /** True when the table is reachable without a schema prefix. */
  boolean inCurrentSchema(TableName table) {
    return currentSchema == null || table.schema() == null || table.schema().equals(currentSchema);
  }

  /** Reads every name the connection can tell about. */
  static SchemaNames load(Connection connection) {
    String currentSchema = null;
    List<TableName> tables = new ArrayList<>();
    Map<String, Set<String>> columns = new LinkedHashMap<>();
    List<String> keywords = List.of();
    try {
      currentSchema = connection.getSchema();
    } catch (SQLException | RuntimeException e) {
      // A driver without schemas: every table counts as current.
    }
    try {
      DatabaseMetaData meta = connection.getMetaData();
      try (ResultSet rs = meta.getTables(null, null, ANY_NAME, null)) {
        while (rs.next()) {
          String schema = rs.getString("TABLE_SCHEM");
          if (!isSystemSchema(schema) && !MODEL_TABLE_TYPE.equalsIgnoreCase(rs.getString("TABLE_TYPE"))) {
            tables.add(new TableName(schema, rs.getString("TABLE_NAME")));
          }
        }
      }
      try (ResultSet rs = meta.getColumns(null, null, ANY_NAME, ANY_NAME)) {
        while (rs.next()) {
          if (!isSystemSchema(rs.getString("TABLE_SCHEM"))) {
            columns
                .computeIfAbsent(rs.getString("TABLE_NAME"), t -> new LinkedHashSet<>())
                .add(rs.getString("COLUMN_NAME"));
          }
        }
      }
      String extra = meta.getSQLKeywords();
      if (extra != null && !extra.isBlank()) {
        keywords = Arrays.stream(extra.split(",")).map(String::strip).filter(k -> !k.isEmpty()).toList();
      }
    } catch (SQLException | RuntimeException e) {
      // Metadata is a convenience for completion; keep whatever was read before the failure.
    }
    Map<String, List<String>> columnLists = new LinkedHashMap<>();
    columns.forEach((table, names) -> columnLists.put(table, List.copyOf(names)));
    return new SchemaNames(currentSchema, tables, columnLists, loadModels(connection), keywords);
  }

  /** Model names from {@code SHOW MODELS}; empty when the server does not know the statement. */
  static List<String> loadModels(Connection connection) {
    List<String> models = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery(SHOW_MODELS)) {
      int column = nameColumn(rs.getMetaData());
      while (rs.next()) {
        String name = rs.getString(column);
        if (name != null) {
          models.add(name);
        }
      }
    } catch (SQLException | RuntimeException e) {
      // Servers other than dlsql have no models.
    }
    return models;
  }

  private static int nameColumn(ResultSetMetaData meta) throws SQLException {
    for (int i = 1; i <= meta.getColumnCount(); i++) {
      if (meta.getColumnLabel(i).equalsIgnoreCase(MODEL_NAME_COLUMN)) {
        return i;
      }
    }
    return 1;
  }

  private static boolean isSystemSchema(String schema) {
    return schema != null && SYSTEM_SCHEMAS.contains(schema.toLowerCase(Locale.ROOT));
  }
}
