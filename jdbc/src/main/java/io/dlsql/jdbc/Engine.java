package io.dlsql.jdbc;

import io.dlsql.catalog.Catalog;
import io.dlsql.catalog.source.FileAccessPolicy;
import io.dlsql.catalog.UserException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.calcite.jdbc.CalciteConnection;
import org.apache.calcite.schema.SchemaPlus;
import org.apache.calcite.schema.impl.AbstractSchema;

/**
 * The engine for one data directory in this process: the catalog, the file access policy and
 * the statements running now. Connections to the same directory share one engine; it closes the
 * catalog (and its lock) when the last connection closes.
 */
public final class Engine {
  /** Connection property: extra directories SQL may read files from. */
  public static final String ALLOWED_DIRS = "allowed_dirs";
  /** Directories readable by default besides the data directory: Debian's data set packages. */
  static final List<Path> DEFAULT_ALLOWED_DIRS = List.of(Path.of("/usr/share/datasets"));

  static final String MAIN_SCHEMA = "main";
  static final String SYSTEM_SCHEMA = "sys";
  static final String TEMPORARY_SCHEMA = "tmp";

  private static final Map<Path, Engine> OPEN = new HashMap<>();

  private final Path dataDir;
  private final Catalog catalog;
  private final FileAccessPolicy files;
  private final Map<Long, Execution> running = new ConcurrentHashMap<>();
  private int connections;

  private Engine(Path dataDir, Catalog catalog, FileAccessPolicy files) {
    this.dataDir = dataDir;
    this.catalog = catalog;
    this.files = files;
  }

  /** The engine for {@code dataDir}, opening the catalog if no connection has it open. */
  static synchronized Engine open(Path dataDir, Properties props) throws SQLException {
    Path key;
    try {
      Files.createDirectories(dataDir);
      key = dataDir.toRealPath();
    } catch (IOException e) {
      throw new SQLException("cannot use data directory " + dataDir + ": " + e.getMessage(), e);
    }
    Engine engine = OPEN.get(key);
    if (engine == null) {
      List<Path> allowed = new ArrayList<>();
      allowed.add(key);
      allowed.addAll(DEFAULT_ALLOWED_DIRS);
      String extra = props.getProperty(ALLOWED_DIRS);
      if (extra != null && !extra.isBlank()) {
        for (String dir : extra.split(File.pathSeparator)) {
          if (!dir.isBlank()) {
            allowed.add(Path.of(dir.strip()));
          }
        }
      }
      try {
        engine = new Engine(key, Catalog.open(key), new FileAccessPolicy(allowed));
      } catch (UserException e) {
        throw new SQLException(e.getMessage(), e);
      }
      OPEN.put(key, engine);
    }
    engine.connections++;
    return engine;
  }

  /** A new connection: a Calcite connection with dlsql's parser and schemas, and a session. */
  DlsqlConnection connect(Properties props) throws SQLException {
    try {
      Properties calciteProps = new Properties();
      calciteProps.setProperty("parserFactory", "io.dlsql.parser.impl.DlsqlParserImpl#FACTORY");
      calciteProps.setProperty("quoting", "DOUBLE_QUOTE");
      calciteProps.setProperty("unquotedCasing", "TO_LOWER");
      calciteProps.setProperty("quotedCasing", "UNCHANGED");
      calciteProps.setProperty("caseSensitive", "false");
      calciteProps.setProperty("typeSystem", DlsqlTypeSystem.class.getName() + "#INSTANCE");
      // Literals of different lengths ('ann', 'cy') unify to VARCHAR instead of blank-padded CHAR.
      calciteProps.setProperty("conformance", "PRAGMATIC_2003");
      Connection calcite = new org.apache.calcite.jdbc.Driver().connect("jdbc:calcite:", calciteProps);
      CalciteConnection cc = calcite.unwrap(CalciteConnection.class);
      SchemaPlus root = cc.getRootSchema();
      root.add(MAIN_SCHEMA, new CatalogSchema(catalog)).setCacheEnabled(false);
      root.add(SYSTEM_SCHEMA, new SystemSchema(this)).setCacheEnabled(false);
      root.add(TEMPORARY_SCHEMA, new AbstractSchema());
      cc.setSchema(MAIN_SCHEMA);
      return new DlsqlConnection(this, calcite);
    } catch (SQLException | RuntimeException e) {
      release();
      throw e;
    }
  }

  /** A connection closed; the last one closes the catalog. */
  void release() {
    synchronized (Engine.class) {
      if (--connections == 0) {
        OPEN.remove(dataDir);
        catalog.close();
      }
    }
  }

  public Path dataDir() {
    return dataDir;
  }

  public Catalog catalog() {
    return catalog;
  }

  public FileAccessPolicy files() {
    return files;
  }

  void started(Execution execution) {
    running.put(execution.id(), execution);
  }

  void finished(Execution execution) {
    running.remove(execution.id());
  }

  /** Statements running now on any connection of this engine. */
  public Collection<Execution> running() {
    return List.copyOf(running.values());
  }
}
