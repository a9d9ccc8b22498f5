package io.dlsql.catalog;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * The tensor column of one record batch as raw off-heap memory: {@code rowCount} rows of {@code
 * type.byteSize()} little-endian bytes each, back to back, so training data can be bulk-copied
 * without per-row objects. Valid only while the batch it came from is loaded. Slots of null rows
 * hold zeros; check {@link #isNull(int)} where the column is nullable.
 */
public record TensorBatch(TensorType type, int rowCount, ArrowBuf data, ArrowBuf validity) {
  /** The tensor column {@code column} (case-insensitive) of the loaded batch. */
  public static TensorBatch of(VectorSchemaRoot batch, String column) {
    FieldVector v = batch.getVector(column.toLowerCase(Locale.ROOT));
    if (v == null) {
      throw new UserException("no column '" + column + "' in " + batch.getSchema());
    }
    ColumnDef def = ArrowColumns.fromField(v.getField());
    if (!(def.type() instanceof TensorType t) || !(v instanceof FixedSizeBinaryVector)) {
      throw new UserException(
          "column '" + def.name() + "' is " + def.type().sqlName() + ", not a tensor column");
    }
    return new TensorBatch(t, batch.getRowCount(), v.getDataBuffer(), v.getValidityBuffer());
  }

  /** Address of row 0's first byte. */
  public long address() {
    return data.memoryAddress();
  }

  /** Bytes of one row. */
  public int rowBytes() {
    return type.byteSize();
  }

  /** Bytes of all rows. */
  public long byteSize() {
    return (long) rowCount * type.byteSize();
  }

  /** The rows as a memory segment (for {@code MemorySegment.copy} into a tensor). */
  public MemorySegment segment() {
    return MemorySegment.ofAddress(address()).reinterpret(byteSize());
  }

  /** Whether row {@code row} is null. */
  public boolean isNull(int row) {
    if (validity == null || validity.capacity() == 0) {
      return false;
    }
    return BitVectorHelper.get(validity, row) == 0;
  }
}
