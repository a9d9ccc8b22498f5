package io.dlsql.planner.physical;

/** Number format a node computes in; fp32 is the only one the executor runs today. */
public enum Precision {
  FP32(Float.BYTES),
  BF16(2),
  INT8(1);

  private final int bytes;

  Precision(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }
}
