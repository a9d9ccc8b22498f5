/**
 * On-disk storage of the catalog: atomic file replacement, CRC32C checksums, the manifest, the
 * weight file format, the append-only training log and the process lock. Classes here are public
 * only so the catalog package can use them; other modules go through {@code Catalog}.
 */
package io.dlsql.catalog.storage;
