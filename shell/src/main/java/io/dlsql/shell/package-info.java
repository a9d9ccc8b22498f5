/**
 * The interactive JLine shell and the batch runner; a client of JDBC only, so it works against
 * any {@link java.sql.Connection} ({@code jdbc:dlsql:DIR} by default, any URL with {@code --url}).
 *
 * <p>The way a line of input travels: {@link io.dlsql.shell.Main} parses the command line
 * ({@code ShellArguments}) and picks a mode. {@link io.dlsql.shell.StatementSplitter} cuts input
 * into {@link io.dlsql.shell.ScriptItem}s (statements ended by {@code ;}, one-line backslash
 * commands), keeping each item's line. {@code ShellSession} runs an item on the connection and
 * prints the result ({@code ResultSetReader} and {@code ValueRenderer} turn rows into display
 * strings, {@code TableFormatter} draws them). {@code BatchRunner} stops at the first error;
 * {@code InteractiveShell} adds JLine: {@code SqlLineParser} decides when Enter runs the buffer,
 * {@code SqlCompleter} and {@code SqlCompletions} complete keywords and the names in
 * {@code SchemaNames}, and {@code ProgressMonitor} polls {@code sys.progress} on a second
 * connection to draw {@code ProgressBar} while a statement runs.
 */
package io.dlsql.shell;
