package io.dlsql.shell;

import java.sql.Connection;
import java.sql.SQLException;

/** Opens a new connection to the server the shell talks to; the progress bar needs a second one. */
@FunctionalInterface
interface ConnectionFactory {
  Connection open() throws SQLException;
}
