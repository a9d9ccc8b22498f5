package io.dlsql.catalog;

/** Element type of a stored weight array; the byte size is what one element takes on disk. */
public enum DType {
  FLOAT32(4),
  BFLOAT16(2),
  FLOAT16(2),
  INT8(1),
  INT32(4);

  private final int byteSize;

  DType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }
}
