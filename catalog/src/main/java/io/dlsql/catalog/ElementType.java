package io.dlsql.catalog;

/**
 * The element type of a tensor column: how many little-endian bytes one element takes and how to
 * read it. Images are stored as UINT8 and normalized later by the executor; FLOAT32 holds
 * already-preprocessed data.
 */
public enum ElementType {
  UINT8(1),
  FLOAT32(Float.BYTES);

  private final int byteSize;

  ElementType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes one element occupies in storage and in row values. */
  public int byteSize() {
    return byteSize;
  }

  /** The SQL spelling, as in {@code TENSOR(1, 28, 28) FLOAT}. */
  public String sqlName() {
    return this == FLOAT32 ? SQL_FLOAT : name();
  }

  private static final String SQL_FLOAT = "FLOAT";

  /** Parses an element type name case-insensitively (FLOAT and FLOAT32 are the same); unknown names are a user mistake. */
  public static ElementType parse(String name) {
    String n = name.trim();
    if (n.equalsIgnoreCase(SQL_FLOAT)) {
      return FLOAT32;
    }
    for (ElementType t : values()) {
      if (t.name().equalsIgnoreCase(n)) {
        return t;
      }
    }
    throw new UserException(
        "unknown tensor element type '" + name + "': expected UINT8 or FLOAT");
  }
}
