package io.dlsql.jdbc;

import io.dlsql.catalog.ModelInfo;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * Calcite's metadata over the catalog's schemas, answering for the dlsql connection; models are
 * listed as tables of type {@code MODEL} in the schema {@code models}, and the connection's
 * temporary tables are hidden.
 */
final class DlsqlDatabaseMetaData extends ForwardingDatabaseMetaData {
  static final String MODEL_TYPE = "MODEL";
  static final String MODELS_SCHEMA = "models";
  private static final int SCHEMA_COLUMN = 2;
  private static final int NAME_COLUMN = 3;
  private static final int TYPE_COLUMN = 4;
  private static final int REMARKS_COLUMN = 5;

  private final DlsqlConnection connection;

  DlsqlDatabaseMetaData(DlsqlConnection connection, DatabaseMetaData calcite) {
    super(calcite);
    this.connection = connection;
  }

  @Override
  public java.sql.Connection getConnection() {
    return connection;
  }

  @Override
  public String getDatabaseProductName() {
    return "dlsql";
  }

  @Override
  public String getDatabaseProductVersion() {
    return "0.1";
  }

  @Override
  public ResultSet getTables(String catalog, String schemaPattern, String tableNamePattern, String[] types)
      throws SQLException {
    boolean wantModels = types == null || Arrays.stream(types).anyMatch(MODEL_TYPE::equalsIgnoreCase);
    List<Object[]> rows = new ArrayList<>();
    List<ResultRows.Column> columns = new ArrayList<>();
    try (ResultSet tables = delegate.getTables(catalog, schemaPattern, tableNamePattern, types)) {
      ResultSetMetaData md = tables.getMetaData();
      for (int c = 1; c <= md.getColumnCount(); c++) {
        columns.add(new ResultRows.Column(md.getColumnLabel(c), SqlTypeName.VARCHAR, true));
      }
      while (tables.next()) {
        if (Engine.TEMPORARY_SCHEMA.equals(tables.getString(SCHEMA_COLUMN))) {
          continue;
        }
        Object[] row = new Object[columns.size()];
        for (int c = 0; c < row.length; c++) {
          row[c] = tables.getString(c + 1);
        }
        rows.add(row);
      }
    }
    if (wantModels && matches(schemaPattern, MODELS_SCHEMA)) {
      for (ModelInfo m : connection.engine().catalog().models()) {
        if (!matches(tableNamePattern, m.name())) {
          continue;
        }
        Object[] row = new Object[columns.size()];
        row[SCHEMA_COLUMN - 1] = MODELS_SCHEMA;
        row[NAME_COLUMN - 1] = m.name();
        row[TYPE_COLUMN - 1] = MODEL_TYPE;
        row[REMARKS_COLUMN - 1] = m.kind() + " model, " + m.classes() + " classes, " + m.parameterCount() + " parameters";
        rows.add(row);
      }
    }
    return serve(new ResultRows(List.copyOf(columns), rows));
  }

  @Override
  public ResultSet getTableTypes() throws SQLException {
    List<Object[]> rows = new ArrayList<>();
    try (ResultSet types = delegate.getTableTypes()) {
      while (types.next()) {
        rows.add(new Object[] {types.getString(1)});
      }
    }
    rows.add(new Object[] {MODEL_TYPE});
    return serve(new ResultRows(List.of(new ResultRows.Column("TABLE_TYPE", SqlTypeName.VARCHAR, false)), rows));
  }

  /** Serves computed rows as a result set of this connection. */
  private ResultSet serve(ResultRows rows) throws SQLException {
    Session session = connection.session();
    String name = session.registerTemporary(rows);
    Statement statement = connection.unwrapCalcite().createStatement();
    try {
      statement.closeOnCompletion();
      return statement.executeQuery(Session.selectAllFrom(name));
    } finally {
      session.dropTemporary(name);
    }
  }

  /** JDBC metadata patterns: % any run, _ one character, null matches all. */
  static boolean matches(String pattern, String value) {
    if (pattern == null) {
      return true;
    }
    StringBuilder regex = new StringBuilder();
    for (char ch : pattern.toCharArray()) {
      regex.append(switch (ch) {
        case '%' -> ".*";
        case '_' -> ".";
        default -> Pattern.quote(String.valueOf(ch));
      });
    }
    return Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE).matcher(value.toLowerCase(Locale.ROOT)).matches();
  }

  @Override
  public String getDriverName() {
    return "dlsql JDBC driver";
  }
}
