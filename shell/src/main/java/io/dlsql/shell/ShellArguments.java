package io.dlsql.shell;

import io.dlsql.catalog.UserException;
import java.nio.file.Path;
import java.util.Properties;

/**
 * The parsed command line of {@link Main}: where to connect, how to log in, and what to run (a
 * script, one statement, or an interactive session).
 */
record ShellArguments(
    String url,
    String user,
    String password,
    Path script,
    String command,
    Path historyFile,
    boolean help) {
  static final String DEFAULT_DATA_DIR = "dlsql-data";
  static final String URL_PREFIX = "jdbc:dlsql:";
  static final String HISTORY_FILE_NAME = ".dlsql_history";

  static final String USAGE =
      """
      usage: dlsql [--data DIR | --url JDBC_URL] [--user U --password P] [--history FILE]
                   [-f script.sql | -e "SQL"]
             dlsql server [server options]
        --data DIR       data directory of the embedded engine (default ./dlsql-data)
        --url JDBC_URL   connect to this JDBC URL instead, e.g. jdbc:dlsql:remote:url=http://host:8765
        --user, --password  credentials for the connection
        -f FILE          run the statements in FILE, stop at the first error
        -e SQL           run these statements and exit
        --history FILE   interactive history file (default ~/.dlsql_history)
      Without -f or -e the shell is interactive when standard input is a terminal and reads
      statements from standard input otherwise.""";

  /** Parses {@code args}; throws {@link UserException} naming the wrong argument. */
  static ShellArguments parse(String[] args) {
    String dataDir = null;
    String url = null;
    String user = null;
    String password = null;
    Path script = null;
    String command = null;
    Path history = null;
    boolean help = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String option = arg;
      String inlineValue = null;
      int equals = arg.indexOf('=');
      if (arg.startsWith("--") && equals > 0) {
        option = arg.substring(0, equals);
        inlineValue = arg.substring(equals + 1);
      }
      switch (option) {
        case "-h", "--help" -> help = true;
        default -> {
          String value = inlineValue;
          if (value == null) {
            if (i + 1 >= args.length) {
              throw new UserException(option + " needs a value");
            }
            value = args[++i];
          }
          switch (option) {
            case "--data" -> dataDir = value;
            case "--url" -> url = value;
            case "--user" -> user = value;
            case "--password" -> password = value;
            case "-f", "--file" -> script = Path.of(value);
            case "-e", "--execute" -> command = value;
            case "--history" -> history = Path.of(value);
            default -> throw new UserException("unknown argument '" + arg + "'");
          }
        }
      }
    }
    if (dataDir != null && url != null) {
      throw new UserException("give --data or --url, not both");
    }
    if (script != null && command != null) {
      throw new UserException("give -f or -e, not both");
    }
    if (url == null) {
      String dir = dataDir == null ? DEFAULT_DATA_DIR : dataDir;
      url = URL_PREFIX + Path.of(dir).toAbsolutePath().normalize();
    }
    if (history == null) {
      history = Path.of(System.getProperty("user.home"), HISTORY_FILE_NAME);
    }
    return new ShellArguments(url, user, password, script, command, history, help);
  }

  /** The JDBC connection properties: user and password where given. */
  Properties connectionProperties() {
    Properties properties = new Properties();
    if (user != null) {
      properties.setProperty("user", user);
    }
    if (password != null) {
      properties.setProperty("password", password);
    }
    return properties;
  }
}
