/**
 * Grammar: Calcite's own parser (FMPP + JavaCC over calcite-core's Parser.jj) extended with
 * dlsql's statements, and the SqlNode classes they parse into. {@link io.dlsql.parser.DlsqlParser}
 * is the entry point; the generated parser is {@code io.dlsql.parser.impl.DlsqlParserImpl}.
 */
package io.dlsql.parser;
