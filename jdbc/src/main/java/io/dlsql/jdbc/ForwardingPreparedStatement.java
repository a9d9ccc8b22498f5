package io.dlsql.jdbc;

import java.sql.*;

/** Forwards every {@link PreparedStatement} call (its {@link Statement} methods through the superclass) to a delegate; subclasses override what dlsql changes. */
abstract class ForwardingPreparedStatement extends ForwardingStatement implements PreparedStatement {
  protected final PreparedStatement prepared;

  protected ForwardingPreparedStatement(PreparedStatement delegate) {
    super(delegate);
    this.prepared = delegate;
  }

  @Override
  public void addBatch() throws SQLException {
    prepared.addBatch();
  }

  @Override
  public void clearParameters() throws SQLException {
    prepared.clearParameters();
  }

  @Override
  public boolean execute() throws SQLException {
    return prepared.execute();
  }

  @Override
  public long executeLargeUpdate() throws SQLException {
    return prepared.executeLargeUpdate();
  }

  @Override
  public ResultSet executeQuery() throws SQLException {
    return prepared.executeQuery();
  }

  @Override
  public int executeUpdate() throws SQLException {
    return prepared.executeUpdate();
  }

  @Override
  public ResultSetMetaData getMetaData() throws SQLException {
    return prepared.getMetaData();
  }

  @Override
  public ParameterMetaData getParameterMetaData() throws SQLException {
    return prepared.getParameterMetaData();
  }

  @Override
  public void setArray(int a0, Array a1) throws SQLException {
    prepared.setArray(a0, a1);
  }

  @Override
  public void setAsciiStream(int a0, java.io.InputStream a1, int a2) throws SQLException {
    prepared.setAsciiStream(a0, a1, a2);
  }

  @Override
  public void setAsciiStream(int a0, java.io.InputStream a1, long a2) throws SQLException {
    prepared.setAsciiStream(a0, a1, a2);
  }

  @Override
  public void setAsciiStream(int a0, java.io.InputStream a1) throws SQLException {
    prepared.setAsciiStream(a0, a1);
  }

  @Override
  public void setBigDecimal(int a0, java.math.BigDecimal a1) throws SQLException {
    prepared.setBigDecimal(a0, a1);
  }

  @Override
  public void setBinaryStream(int a0, java.io.InputStream a1, int a2) throws SQLException {
    prepared.setBinaryStream(a0, a1, a2);
  }

  @Override
  public void setBinaryStream(int a0, java.io.InputStream a1, long a2) throws SQLException {
    prepared.setBinaryStream(a0, a1, a2);
  }

  @Override
  public void setBinaryStream(int a0, java.io.InputStream a1) throws SQLException {
    prepared.setBinaryStream(a0, a1);
  }

  @Override
  public void setBlob(int a0, java.io.InputStream a1, long a2) throws SQLException {
    prepared.setBlob(a0, a1, a2);
  }

  @Override
  public void setBlob(int a0, java.io.InputStream a1) throws SQLException {
    prepared.setBlob(a0, a1);
  }

  @Override
  public void setBlob(int a0, Blob a1) throws SQLException {
    prepared.setBlob(a0, a1);
  }

  @Override
  public void setBoolean(int a0, boolean a1) throws SQLException {
    prepared.setBoolean(a0, a1);
  }

  @Override
  public void setByte(int a0, byte a1) throws SQLException {
    prepared.setByte(a0, a1);
  }

  @Override
  public void setBytes(int a0, byte[] a1) throws SQLException {
    prepared.setBytes(a0, a1);
  }

  @Override
  public void setCharacterStream(int a0, java.io.Reader a1, int a2) throws SQLException {
    prepared.setCharacterStream(a0, a1, a2);
  }

  @Override
  public void setCharacterStream(int a0, java.io.Reader a1, long a2) throws SQLException {
    prepared.setCharacterStream(a0, a1, a2);
  }

  @Override
  public void setCharacterStream(int a0, java.io.Reader a1) throws SQLException {
    prepared.setCharacterStream(a0, a1);
  }

  @Override
  public void setClob(int a0, java.io.Reader a1, long a2) throws SQLException {
    prepared.setClob(a0, a1, a2);
  }

  @Override
  public void setClob(int a0, java.io.Reader a1) throws SQLException {
    prepared.setClob(a0, a1);
  }

  @Override
  public void setClob(int a0, Clob a1) throws SQLException {
    prepared.setClob(a0, a1);
  }

  @Override
  public void setDate(int a0, Date a1, java.util.Calendar a2) throws SQLException {
    prepared.setDate(a0, a1, a2);
  }

  @Override
  public void setDate(int a0, Date a1) throws SQLException {
    prepared.setDate(a0, a1);
  }

  @Override
  public void setDouble(int a0, double a1) throws SQLException {
    prepared.setDouble(a0, a1);
  }

  @Override
  public void setFloat(int a0, float a1) throws SQLException {
    prepared.setFloat(a0, a1);
  }

  @Override
  public void setInt(int a0, int a1) throws SQLException {
    prepared.setInt(a0, a1);
  }

  @Override
  public void setLong(int a0, long a1) throws SQLException {
    prepared.setLong(a0, a1);
  }

  @Override
  public void setNCharacterStream(int a0, java.io.Reader a1, long a2) throws SQLException {
    prepared.setNCharacterStream(a0, a1, a2);
  }

  @Override
  public void setNCharacterStream(int a0, java.io.Reader a1) throws SQLException {
    prepared.setNCharacterStream(a0, a1);
  }

  @Override
  public void setNClob(int a0, java.io.Reader a1, long a2) throws SQLException {
    prepared.setNClob(a0, a1, a2);
  }

  @Override
  public void setNClob(int a0, java.io.Reader a1) throws SQLException {
    prepared.setNClob(a0, a1);
  }

  @Override
  public void setNClob(int a0, NClob a1) throws SQLException {
    prepared.setNClob(a0, a1);
  }

  @Override
  public void setNString(int a0, String a1) throws SQLException {
    prepared.setNString(a0, a1);
  }

  @Override
  public void setNull(int a0, int a1, String a2) throws SQLException {
    prepared.setNull(a0, a1, a2);
  }

  @Override
  public void setNull(int a0, int a1) throws SQLException {
    prepared.setNull(a0, a1);
  }

  @Override
  public void setObject(int a0, Object a1, int a2, int a3) throws SQLException {
    prepared.setObject(a0, a1, a2, a3);
  }

  @Override
  public void setObject(int a0, Object a1, int a2) throws SQLException {
    prepared.setObject(a0, a1, a2);
  }

  @Override
  public void setObject(int a0, Object a1, SQLType a2, int a3) throws SQLException {
    prepared.setObject(a0, a1, a2, a3);
  }

  @Override
  public void setObject(int a0, Object a1, SQLType a2) throws SQLException {
    prepared.setObject(a0, a1, a2);
  }

  @Override
  public void setObject(int a0, Object a1) throws SQLException {
    prepared.setObject(a0, a1);
  }

  @Override
  public void setRef(int a0, Ref a1) throws SQLException {
    prepared.setRef(a0, a1);
  }

  @Override
  public void setRowId(int a0, RowId a1) throws SQLException {
    prepared.setRowId(a0, a1);
  }

  @Override
  public void setSQLXML(int a0, SQLXML a1) throws SQLException {
    prepared.setSQLXML(a0, a1);
  }

  @Override
  public void setShort(int a0, short a1) throws SQLException {
    prepared.setShort(a0, a1);
  }

  @Override
  public void setString(int a0, String a1) throws SQLException {
    prepared.setString(a0, a1);
  }

  @Override
  public void setTime(int a0, Time a1, java.util.Calendar a2) throws SQLException {
    prepared.setTime(a0, a1, a2);
  }

  @Override
  public void setTime(int a0, Time a1) throws SQLException {
    prepared.setTime(a0, a1);
  }

  @Override
  public void setTimestamp(int a0, Timestamp a1, java.util.Calendar a2) throws SQLException {
    prepared.setTimestamp(a0, a1, a2);
  }

  @Override
  public void setTimestamp(int a0, Timestamp a1) throws SQLException {
    prepared.setTimestamp(a0, a1);
  }

  @Override
  public void setURL(int a0, java.net.URL a1) throws SQLException {
    prepared.setURL(a0, a1);
  }

  @Override
  public void setUnicodeStream(int a0, java.io.InputStream a1, int a2) throws SQLException {
    prepared.setUnicodeStream(a0, a1, a2);
  }
}
