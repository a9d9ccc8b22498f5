package io.dlsql.parser;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.calcite.rel.type.RelDataType;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlTypeNameSpec;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.sql.validate.SqlValidator;
import org.apache.calcite.util.Litmus;

/**
 * The type {@code TENSOR(d1, d2, ...) [UINT8 | FLOAT]} (element type FLOAT unless given), as
 * written in column declarations, model inputs, CAST and layer arguments. SQL sees a tensor as
 * VARBINARY, because the engine stores a tensor value as its elements' little-endian bytes; the
 * shape and element type stay here for the catalog.
 */
public final class SqlTensorTypeNameSpec extends SqlTypeNameSpec {
  /** The element types a tensor column or model input can have. */
  public enum ElementType {
    UINT8(Byte.BYTES),
    FLOAT(Float.BYTES);

    private final int byteWidth;

    ElementType(int byteWidth) {
      this.byteWidth = byteWidth;
    }

    /** Bytes per element in the stored little-endian encoding. */
    public int byteWidth() {
      return byteWidth;
    }
  }

  /** The element type when none is written. */
  public static final ElementType DEFAULT_ELEMENT_TYPE = ElementType.FLOAT;

  private final int[] dims;
  private final ElementType elementType;

  /**
   * A tensor type; {@code dims} must be non-empty and positive (the grammar reports the user's
   * mistakes before it gets here).
   */
  public SqlTensorTypeNameSpec(List<Integer> dims, ElementType elementType, SqlParserPos pos) {
    super(new SqlIdentifier("TENSOR", pos), pos);
    if (dims.isEmpty() || dims.stream().anyMatch(d -> d <= 0)) {
      throw new IllegalStateException("tensor dimensions must be positive: " + dims);
    }
    this.dims = dims.stream().mapToInt(Integer::intValue).toArray();
    this.elementType = elementType;
  }

  /** The shape, outermost dimension first; a copy. */
  public int[] dims() {
    return dims.clone();
  }

  public ElementType elementType() {
    return elementType;
  }

  /** Elements in one tensor value: the product of the dimensions. */
  public long elementCount() {
    long count = 1;
    for (int dim : dims) {
      count = Math.multiplyExact(count, dim);
    }
    return count;
  }

  /** Bytes of one stored tensor value. */
  public long byteLength() {
    return Math.multiplyExact(elementCount(), elementType.byteWidth());
  }

  /** VARBINARY without a length limit: the bytes of one tensor value. */
  @Override
  public RelDataType deriveType(SqlValidator validator) {
    return validator.getTypeFactory().createSqlType(SqlTypeName.VARBINARY);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("TENSOR");
    SqlWriter.Frame frame = writer.startList(SqlWriter.FrameTypeEnum.FUN_CALL, "(", ")");
    for (int dim : dims) {
      writer.sep(",");
      writer.print(dim);
    }
    writer.endList(frame);
    writer.keyword(elementType.name());
  }

  @Override
  public boolean equalsDeep(SqlTypeNameSpec spec, Litmus litmus) {
    if (!(spec instanceof SqlTensorTypeNameSpec that)
        || !Arrays.equals(dims, that.dims)
        || elementType != that.elementType) {
      return litmus.fail("{} != {}", this, spec);
    }
    return litmus.succeed();
  }

  @Override
  public String toString() {
    return Arrays.stream(dims)
            .mapToObj(Integer::toString)
            .collect(Collectors.joining(", ", "TENSOR(", ") "))
        + elementType;
  }
}
