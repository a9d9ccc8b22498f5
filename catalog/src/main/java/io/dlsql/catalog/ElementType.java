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

  /** Parses an element type name case-insensitively; unknown names are a user mistake. */
  public static ElementType parse(String name) {
    for (ElementType t : values()) {
      if (t.name().equalsIgnoreCase(name.trim())) {
        return t;
      }
    }
    throw new UserException(
        "unknown tensor element type '" + name + "': expected UINT8 or FLOAT32");
  }
}
