/** The interactive JLine shell and the batch runner; a client of the JDBC driver only. */
package io.dlsql.shell;
