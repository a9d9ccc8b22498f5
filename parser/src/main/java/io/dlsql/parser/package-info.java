/** Grammar: Calcite's own parser (FMPP + JavaCC over calcite-core's Parser.jj) extended with dlsql's statements, and the SqlNode classes they parse into. */
package io.dlsql.parser;
