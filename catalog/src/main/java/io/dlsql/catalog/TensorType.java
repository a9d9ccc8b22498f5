package io.dlsql.catalog;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * A fixed-shape tensor column type, e.g. {@code TENSOR(1, 28, 28) UINT8}. One row holds {@link
 * #elementCount()} elements; row values are {@code byte[]} of {@link #byteSize()} little-endian
 * bytes.
 *
 * @param dims the shape of one row's tensor (every dimension at least 1)
 * @param elementType how each element is stored
 */
public record TensorType(int[] dims, ElementType elementType) implements ColumnType {
  /** Largest tensor one row may hold: Arrow's FixedSizeBinary width is an int. */
  private static final long MAX_ROW_BYTES = Integer.MAX_VALUE;

  public TensorType {
    if (elementType == null) {
      throw new IllegalArgumentException("elementType is null");
    }
    if (dims == null || dims.length == 0) {
      throw new UserException("a tensor type needs at least one dimension");
    }
    dims = dims.clone();
    long bytes = elementType.byteSize();
    for (int d : dims) {
      if (d < 1) {
        throw new UserException("tensor dimensions must be positive, got " + Arrays.toString(dims));
      }
      bytes *= d;
      if (bytes > MAX_ROW_BYTES) {
        throw new UserException("tensor " + Arrays.toString(dims) + " is too large for one row");
      }
    }
  }

  @Override
  public int[] dims() {
    return dims.clone();
  }

  /** Number of dimensions. */
  public int rank() {
    return dims.length;
  }

  /** Size of dimension {@code i}. */
  public int dim(int i) {
    return dims[i];
  }

  /** Elements in one row's tensor (product of the dimensions). */
  public int elementCount() {
    int n = 1;
    for (int d : dims) {
      n *= d;
    }
    return n;
  }

  /** Bytes in one row's tensor. */
  public int byteSize() {
    return elementCount() * elementType.byteSize();
  }

  @Override
  public String sqlName() {
    return "TENSOR("
        + Arrays.stream(dims).mapToObj(Integer::toString).collect(Collectors.joining(", "))
        + ") "
        + elementType.sqlName();
  }

  @Override
  public Class<?> javaClass() {
    return byte[].class;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorType t && t.elementType == elementType && Arrays.equals(t.dims, dims);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(dims) + elementType.hashCode();
  }

  @Override
  public String toString() {
    return sqlName();
  }
}
