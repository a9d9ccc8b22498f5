package io.dlsql.jdbc;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The dlsql JDBC driver. {@code jdbc:dlsql:<data dir>} opens the engine in this process on that
 * data directory (empty: {@code ./dlsql-data}); {@code jdbc:dlsql:remote:url=http://host:port}
 * connects to a {@code dlsql server} through Avatica's protobuf protocol.
 */
public final class Driver implements java.sql.Driver {
  public static final String PREFIX = "jdbc:dlsql:";
  public static final String REMOTE_PREFIX = PREFIX + "remote:";
  static final String DEFAULT_DATA_DIR = "dlsql-data";
  private static final String AVATICA_USER = "avatica_user";
  private static final String AVATICA_PASSWORD = "avatica_password";
  private static final String SQLSTATE_AUTHORIZATION = "28000";
  private static final String SQLSTATE_CONNECTION = "08001";
  private static final int MAJOR_VERSION = 0;
  private static final int MINOR_VERSION = 1;

  static {
    try {
      DriverManager.registerDriver(new Driver());
    } catch (SQLException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @Override
  public Connection connect(String url, Properties info) throws SQLException {
    if (!acceptsURL(url)) {
      return null;
    }
    Properties props = new Properties();
    if (info != null) {
      props.putAll(info);
    }
    if (url.startsWith(REMOTE_PREFIX)) {
      String rest = url.substring(REMOTE_PREFIX.length());
      if (!rest.contains("serialization=")) {
        rest = rest + ";serialization=protobuf";
      }
      // Avatica authenticates with avatica_user/avatica_password; accept JDBC's usual names too.
      String user = props.getProperty("user");
      if (user != null && props.getProperty(AVATICA_USER) == null && !rest.contains(AVATICA_USER + "=")) {
        props.setProperty("authentication", "BASIC");
        props.setProperty(AVATICA_USER, user);
        props.setProperty(AVATICA_PASSWORD, props.getProperty("password", ""));
      }
      try {
        return new org.apache.calcite.avatica.remote.Driver().connect("jdbc:avatica:remote:" + rest, props);
      } catch (RuntimeException e) {
        String message = String.valueOf(e.getMessage());
        if (message.contains("401")) {
          throw new SQLException("authentication failed for " + url + " (HTTP 401): check user and password",
              SQLSTATE_AUTHORIZATION, e);
        }
        throw new SQLException("cannot connect to " + url + ": " + message, SQLSTATE_CONNECTION, e);
      }
    }
    String location = url.substring(PREFIX.length());
    int semicolon = location.indexOf(';');
    if (semicolon >= 0) {
      for (String pair : location.substring(semicolon + 1).split(";")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          props.setProperty(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
        }
      }
      location = location.substring(0, semicolon);
    }
    Path dataDir = Path.of(location.isBlank() ? DEFAULT_DATA_DIR : location);
    return Engine.open(dataDir, props).connect(props);
  }

  @Override
  public boolean acceptsURL(String url) {
    return url != null && url.startsWith(PREFIX);
  }

  @Override
  public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
    DriverPropertyInfo allowed = new DriverPropertyInfo(Engine.ALLOWED_DIRS, null);
    allowed.description =
        "Directories (separated by the path separator) that SQL may read files from, besides the data directory";
    return new DriverPropertyInfo[] {allowed};
  }

  @Override
  public int getMajorVersion() {
    return MAJOR_VERSION;
  }

  @Override
  public int getMinorVersion() {
    return MINOR_VERSION;
  }

  @Override
  public boolean jdbcCompliant() {
    return false;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException("dlsql does not use java.util.logging");
  }
}
