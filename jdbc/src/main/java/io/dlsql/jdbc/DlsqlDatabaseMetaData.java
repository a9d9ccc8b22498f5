package io.dlsql.jdbc;

import java.sql.DatabaseMetaData;

/** Calcite's metadata over the catalog's schemas, answering for the dlsql connection. */
final class DlsqlDatabaseMetaData extends ForwardingDatabaseMetaData {
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
  public String getDriverName() {
    return "dlsql JDBC driver";
  }
}
