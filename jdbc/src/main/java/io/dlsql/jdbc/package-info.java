/** The engine session that dispatches statements, the java.sql.Driver for jdbc:dlsql: URLs and the Avatica server. */
package io.dlsql.jdbc;
