/**
 * External data the engine reads as table functions: IDX files (MNIST, Fashion-MNIST) and CSV
 * files, and the policy deciding which files a statement may read at all.
 */
package io.dlsql.catalog.source;
