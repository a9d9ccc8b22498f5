package io.dlsql.jdbc.server;

import io.dlsql.jdbc.Driver;
import io.dlsql.jdbc.Engine;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import org.apache.calcite.avatica.jdbc.JdbcMeta;
import org.apache.calcite.avatica.remote.LocalService;
import org.apache.calcite.avatica.server.HttpServer;
import org.apache.calcite.avatica.server.ServerCustomizer;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * {@code dlsql server}: serves one data directory's engine over Avatica's protobuf protocol, so
 * BI tools and other processes use it through the Avatica thin driver or {@code
 * jdbc:dlsql:remote:url=...}. Binds to loopback unless told otherwise, and refuses to listen
 * beyond loopback without a users file (HTTP BASIC authentication).
 */
public final class DlsqlServer implements AutoCloseable {
  public static final int DEFAULT_PORT = 8765;
  public static final String DEFAULT_BIND = "127.0.0.1";
  /** Any authenticated user may connect (Jetty's role wildcard). */
  private static final String[] ANY_AUTHENTICATED_ROLE = {"**"};

  /** Command-line options of {@code dlsql server}. */
  public record Options(int port, String bind, Path usersFile, Path dataDir, String allowedDirs) {
    public static Options parse(List<String> args) {
      int port = DEFAULT_PORT;
      String bind = DEFAULT_BIND;
      Path users = null;
      Path data = Path.of("dlsql-data");
      String allowed = null;
      for (int i = 0; i < args.size(); i++) {
        String arg = args.get(i);
        String value = i + 1 < args.size() ? args.get(i + 1) : null;
        switch (arg) {
          case "--port" -> port = parsePort(require(arg, value));
          case "--bind" -> bind = require(arg, value);
          case "--users" -> users = Path.of(require(arg, value));
          case "--data" -> data = Path.of(require(arg, value));
          case "--allow" -> allowed = require(arg, value);
          default -> throw new IllegalArgumentException(
              "unknown server option " + arg + "; expected --port N, --bind ADDR, --users FILE, --data DIR, --allow DIRS");
        }
        i++;
      }
      return new Options(port, bind, users, data, allowed);
    }

    private static String require(String option, String value) {
      if (value == null) {
        throw new IllegalArgumentException(option + " needs a value");
      }
      return value;
    }

    private static int parsePort(String value) {
      try {
        int port = Integer.parseInt(value);
        if (port < 0 || port > 65535) {
          throw new NumberFormatException();
        }
        return port;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--port must be a number from 0 to 65535, got " + value);
      }
    }
  }

  private final HttpServer http;
  private final Options options;

  private DlsqlServer(HttpServer http, Options options) {
    this.http = http;
    this.options = options;
  }

  /** Starts a server; refuses a non-loopback address without a users file. */
  public static DlsqlServer start(Options options) throws SQLException, IOException {
    InetAddress address = InetAddress.getByName(options.bind());
    if (!address.isLoopbackAddress() && options.usersFile() == null) {
      throw new IllegalArgumentException(
          "refusing to listen on " + options.bind()
              + " without authentication: pass --users FILE (lines 'name: password') or bind to 127.0.0.1");
    }
    if (options.usersFile() != null && !Files.isReadable(options.usersFile())) {
      throw new IllegalArgumentException("users file " + options.usersFile() + " is not readable");
    }
    Properties props = new Properties();
    if (options.allowedDirs() != null) {
      props.setProperty(Engine.ALLOWED_DIRS, options.allowedDirs());
    }
    String url = Driver.PREFIX + options.dataDir().toAbsolutePath();
    JdbcMeta meta = new JdbcMeta(url, props);
    ServerCustomizer<Server> bindAddress =
        server -> {
          for (Connector connector : server.getConnectors()) {
            if (connector instanceof ServerConnector sc) {
              sc.setHost(options.bind());
            }
          }
        };
    HttpServer.Builder<Server> builder =
        HttpServer.Builder.<Server>newBuilder()
            .withHandler(new LocalService(meta), org.apache.calcite.avatica.remote.Driver.Serialization.PROTOBUF)
            .withPort(options.port())
            .withServerCustomizers(List.of(bindAddress), Server.class);
    if (options.usersFile() != null) {
      builder.withBasicAuthentication(options.usersFile().toAbsolutePath().toString(), ANY_AUTHENTICATED_ROLE);
    }
    HttpServer http = builder.build();
    http.start();
    return new DlsqlServer(http, options);
  }

  public int port() {
    return http.getPort();
  }

  /** The URL a dlsql client uses to reach this server. */
  public String clientUrl() {
    return Driver.REMOTE_PREFIX + "url=http://" + hostForUrl() + ":" + port();
  }

  private String hostForUrl() {
    String bind = options.bind();
    return bind.contains(":") ? "[" + bind + "]" : bind;
  }

  public void join() throws InterruptedException {
    http.join();
  }

  @Override
  public void close() {
    http.stop();
  }

  /** {@code dlsql server [--port N] [--bind ADDR] [--users FILE] [--data DIR] [--allow DIRS]}. */
  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    Options options;
    DlsqlServer server;
    try {
      options = Options.parse(List.of(args));
      server = start(options);
    } catch (IllegalArgumentException | UnknownHostException e) {
      System.err.println("dlsql server: " + e.getMessage());
      System.exit(2);
      return;
    }
    out.println("dlsql server listening on " + options.bind() + ":" + server.port()
        + (options.usersFile() != null ? " (BASIC authentication)" : " (no authentication, loopback only)"));
    out.println("data directory: " + options.dataDir().toAbsolutePath());
    out.println("connect with: " + server.clientUrl()
        + "  or  jdbc:avatica:remote:url=http://" + server.hostForUrl() + ":" + server.port() + ";serialization=protobuf");
    out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "dlsql-server-shutdown"));
    server.join();
  }
}
