package io.dlsql.shell;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * In-process JDBC sources for the tests: H2 in memory, optionally behind a proxy that answers
 * dlsql's {@code SHOW MODELS} and {@code DESCRIBE MODEL} from an ordinary {@code models} table,
 * so the shell's model handling can be tested before dlsql's own driver exists.
 */
final class TestDatabase {
  private static final AtomicInteger NEXT_ID = new AtomicInteger();

  private TestDatabase() {}

  /** A URL of a new, empty in-memory database that lives until the JVM ends. */
  static String newUrl() {
    return "jdbc:h2:mem:shell" + NEXT_ID.incrementAndGet() + ";DB_CLOSE_DELAY=-1";
  }

  /** A connection whose statements understand SHOW MODELS and DESCRIBE MODEL. */
  static Connection withModels(String url) throws SQLException {
    Connection h2 = DriverManager.getConnection(url);
    try (Statement statement = h2.createStatement()) {
      statement.execute("CREATE TABLE IF NOT EXISTS models (name VARCHAR(100), layers INT)");
    }
    return (Connection)
        Proxy.newProxyInstance(
            TestDatabase.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              Object result = invoke(h2, method, args);
              if (result instanceof Statement statement && method.getName().equals("createStatement")) {
                return rewriting(statement);
              }
              return result;
            });
  }

  private static Statement rewriting(Statement statement) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          if (args != null && args.length > 0 && args[0] instanceof String sql && method.getName().startsWith("execute")) {
            args[0] = rewrite(sql);
            if (!args[0].equals(sql) && sql.strip().toUpperCase(Locale.ROOT).startsWith("DESCRIBE")) {
              requireRow(statement.getConnection(), (String) args[0], sql);
            }
          }
          return invoke(statement, method, args);
        };
    return (Statement)
        Proxy.newProxyInstance(TestDatabase.class.getClassLoader(), new Class<?>[] {Statement.class}, handler);
  }

  private static String rewrite(String sql) {
    String upper = sql.strip().toUpperCase(Locale.ROOT);
    if (upper.equals("SHOW MODELS")) {
      return "SELECT name AS \"name\", layers FROM models ORDER BY name";
    }
    if (upper.startsWith("DESCRIBE MODEL ")) {
      String name = sql.strip().substring("DESCRIBE MODEL ".length()).strip().replace("'", "''");
      return "SELECT * FROM models WHERE name = '" + name + "'";
    }
    return sql;
  }

  /** dlsql fails DESCRIBE MODEL for an unknown model; the emulation does the same. */
  private static void requireRow(Connection connection, String query, String original) throws SQLException {
    try (Statement statement = connection.createStatement();
        java.sql.ResultSet rs = statement.executeQuery(query)) {
      if (!rs.next()) {
        throw new SQLException("Model not found: " + original);
      }
    }
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
