package io.dlsql.jdbc;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A prepared standard-SQL query on a dlsql connection: Calcite prepares and runs it; only its
 * connection is ours. dlsql's own statements are not prepared (see {@link Session#prepare}).
 */
final class DlsqlPreparedStatement extends ForwardingPreparedStatement {
  private final DlsqlConnection connection;

  DlsqlPreparedStatement(DlsqlConnection connection, PreparedStatement calcite) {
    super(calcite);
    this.connection = connection;
  }

  @Override
  public java.sql.Connection getConnection() {
    return connection;
  }

  @Override
  public ResultSet executeQuery(String sql) throws SQLException {
    throw new SQLException("executeQuery(String) is not allowed on a PreparedStatement; use a Statement");
  }
}
