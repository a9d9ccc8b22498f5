package io.dlsql.catalog;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.TimeStampMicroVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The one mapping between catalog columns and Arrow: column definitions to fields (tensors as
 * {@code FixedSizeBinary} with their shape in field metadata) and Java row values to and from
 * vector slots, with the validation every write goes through.
 */
public final class ArrowColumns {
  /** Field metadata key holding a tensor column's shape, e.g. {@code "1,28,28"}. */
  public static final String TENSOR_DIMS_KEY = "dlsql.tensor.dims";

  /** Field metadata key holding a tensor column's element type name. */
  public static final String TENSOR_ELEMENT_KEY = "dlsql.tensor.element";

  private static final long MICROS_PER_SECOND = 1_000_000L;
  private static final int NANOS_PER_MICRO = 1_000;
  private static final int MAX_SHOWN_VALUE_CHARS = 40;

  private ArrowColumns() {}

  /** The Arrow field for a column. */
  public static Field toField(ColumnDef column) {
    Map<String, String> metadata = null;
    ArrowType arrowType;
    switch (column.type()) {
      case ScalarType s -> arrowType = scalarArrowType(s);
      case TensorType t -> {
        arrowType = new ArrowType.FixedSizeBinary(t.byteSize());
        metadata = new HashMap<>();
        metadata.put(
            TENSOR_DIMS_KEY,
            Arrays.stream(t.dims()).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        metadata.put(TENSOR_ELEMENT_KEY, t.elementType().name());
      }
    }
    return new Field(
        column.name(), new FieldType(column.nullable(), arrowType, null, metadata), null);
  }

  /** The Arrow schema for a list of columns. */
  public static Schema toSchema(List<ColumnDef> columns) {
    return new Schema(columns.stream().map(ArrowColumns::toField).toList());
  }

  /**
   * The column a field describes; the inverse of {@link #toField}. Fields of Arrow types the
   * catalog does not store are a user mistake (e.g. an external Arrow file).
   */
  public static ColumnDef fromField(Field field) {
    ArrowType type = field.getType();
    ColumnType columnType =
        switch (type) {
          case ArrowType.Bool b -> ColumnType.BOOLEAN;
          case ArrowType.Int i when i.getBitWidth() == Integer.SIZE && i.getIsSigned() ->
              ColumnType.INTEGER;
          case ArrowType.Int i when i.getBitWidth() == Long.SIZE && i.getIsSigned() ->
              ColumnType.BIGINT;
          case ArrowType.FloatingPoint f when f.getPrecision() == FloatingPointPrecision.SINGLE ->
              ColumnType.REAL;
          case ArrowType.FloatingPoint f when f.getPrecision() == FloatingPointPrecision.DOUBLE ->
              ColumnType.DOUBLE;
          case ArrowType.Utf8 u -> ColumnType.VARCHAR;
          case ArrowType.Date d when d.getUnit() == DateUnit.DAY -> ColumnType.DATE;
          case ArrowType.Timestamp ts
              when ts.getUnit() == TimeUnit.MICROSECOND && ts.getTimezone() == null ->
              ColumnType.TIMESTAMP;
          case ArrowType.FixedSizeBinary fsb -> tensorTypeOf(field, fsb);
          default ->
              throw new UserException(
                  "column '" + field.getName() + "' has unsupported Arrow type " + type);
        };
    return new ColumnDef(field.getName(), columnType, field.isNullable());
  }

  /** The columns of an Arrow schema. */
  public static List<ColumnDef> fromSchema(Schema schema) {
    return schema.getFields().stream().map(ArrowColumns::fromField).toList();
  }

  /**
   * Checks a column list for a table: at least one column and no duplicate names.
   *
   * @return the same list, unmodifiable
   */
  public static List<ColumnDef> validateColumns(String table, List<ColumnDef> columns) {
    if (columns == null || columns.isEmpty()) {
      throw new UserException("table '" + table + "' needs at least one column");
    }
    Set<String> seen = new HashSet<>();
    for (ColumnDef c : columns) {
      if (!seen.add(c.name())) {
        throw new UserException("table '" + table + "' has two columns named '" + c.name() + "'");
      }
    }
    return List.copyOf(columns);
  }

  private static ArrowType scalarArrowType(ScalarType s) {
    return switch (s) {
      case BOOLEAN -> ArrowType.Bool.INSTANCE;
      case INTEGER -> new ArrowType.Int(Integer.SIZE, true);
      case BIGINT -> new ArrowType.Int(Long.SIZE, true);
      case REAL -> new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
      case DOUBLE -> new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
      case VARCHAR -> ArrowType.Utf8.INSTANCE;
      case DATE -> new ArrowType.Date(DateUnit.DAY);
      case TIMESTAMP -> new ArrowType.Timestamp(TimeUnit.MICROSECOND, null);
    };
  }

  private static TensorType tensorTypeOf(Field field, ArrowType.FixedSizeBinary fsb) {
    Map<String, String> md = field.getMetadata();
    String dims = md == null ? null : md.get(TENSOR_DIMS_KEY);
    if (dims == null) {
      // A plain binary column from elsewhere: read it as a flat byte tensor.
      return new TensorType(new int[] {fsb.getByteWidth()}, ElementType.UINT8);
    }
    int[] shape =
        Arrays.stream(dims.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    String element = md.get(TENSOR_ELEMENT_KEY);
    TensorType t =
        new TensorType(shape, element == null ? ElementType.UINT8 : ElementType.parse(element));
    if (t.byteSize() != fsb.getByteWidth()) {
      throw new IllegalStateException(
          "column '"
              + field.getName()
              + "': tensor "
              + t
              + " does not match byte width "
              + fsb.getByteWidth());
    }
    return t;
  }

  /**
   * Writes one row value into a vector slot after checking it against the column; {@code row} is
   * the 1-based row number used in error messages.
   *
   * @throws UserException on a null in a NOT NULL column, a value of the wrong type or a tensor
   *     whose byte length does not match its shape
   */
  public static void set(FieldVector vector, int index, ColumnDef column, Object value, long row) {
    if (value == null) {
      if (!column.nullable()) {
        throw new UserException(
            "column '" + column.name() + "', row " + row + ": null in a NOT NULL column");
      }
      vector.setNull(index);
      return;
    }
    switch (column.type()) {
      case TensorType t -> setTensor((FixedSizeBinaryVector) vector, index, column, t, value, row);
      case ScalarType s -> {
        switch (s) {
          case BOOLEAN -> {
            if (!(value instanceof Boolean b)) {
              throw wrongType(column, row, value);
            }
            ((BitVector) vector).setSafe(index, b ? 1 : 0);
          }
          case INTEGER -> ((IntVector) vector).setSafe(index, toInt(column, row, value));
          case BIGINT -> ((BigIntVector) vector).setSafe(index, toLong(column, row, value));
          case REAL -> ((Float4Vector) vector).setSafe(index, (float) toDouble(column, row, value));
          case DOUBLE -> ((Float8Vector) vector).setSafe(index, toDouble(column, row, value));
          case VARCHAR -> {
            if (!(value instanceof CharSequence cs)) {
              throw wrongType(column, row, value);
            }
            ((VarCharVector) vector).setSafe(index, cs.toString().getBytes(StandardCharsets.UTF_8));
          }
          case DATE -> {
            LocalDate d =
                switch (value) {
                  case LocalDate ld -> ld;
                  case java.sql.Date sd -> sd.toLocalDate();
                  default -> throw wrongType(column, row, value);
                };
            ((DateDayVector) vector).setSafe(index, Math.toIntExact(d.toEpochDay()));
          }
          case TIMESTAMP -> {
            LocalDateTime dt =
                switch (value) {
                  case Timestamp ts -> ts.toLocalDateTime();
                  case LocalDateTime ldt -> ldt;
                  default -> throw wrongType(column, row, value);
                };
            ((TimeStampMicroVector) vector).setSafe(index, toMicros(dt));
          }
        }
      }
    }
  }

  /**
   * Reads one slot as a Java row value: Boolean, Integer, Long, Float, Double, String, LocalDate,
   * Timestamp, {@code byte[]} for tensors, or null.
   */
  public static Object get(FieldVector vector, int index, ColumnType type) {
    if (vector.isNull(index)) {
      return null;
    }
    return switch (type) {
      case TensorType t -> ((FixedSizeBinaryVector) vector).get(index);
      case ScalarType s ->
          switch (s) {
            case BOOLEAN -> ((BitVector) vector).get(index) != 0;
            case INTEGER -> ((IntVector) vector).get(index);
            case BIGINT -> ((BigIntVector) vector).get(index);
            case REAL -> ((Float4Vector) vector).get(index);
            case DOUBLE -> ((Float8Vector) vector).get(index);
            case VARCHAR -> new String(((VarCharVector) vector).get(index), StandardCharsets.UTF_8);
            case DATE -> LocalDate.ofEpochDay(((DateDayVector) vector).get(index));
            case TIMESTAMP ->
                Timestamp.valueOf(fromMicros(((TimeStampMicroVector) vector).get(index)));
          };
    };
  }

  /** Reads row {@code index} of every column of a batch. */
  public static Object[] row(List<FieldVector> vectors, List<ColumnDef> columns, int index) {
    Object[] values = new Object[columns.size()];
    for (int c = 0; c < values.length; c++) {
      values[c] = get(vectors.get(c), index, columns.get(c).type());
    }
    return values;
  }

  /** Little-endian bytes of a float array, the row form of a FLOAT32 tensor. */
  public static byte[] floatsToBytes(float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return b.array();
  }

  /** The floats of a FLOAT32 tensor row value. */
  public static float[] bytesToFloats(byte[] bytes) {
    float[] out = new float[bytes.length / Float.BYTES];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  private static void setTensor(
      FixedSizeBinaryVector vector,
      int index,
      ColumnDef column,
      TensorType t,
      Object value,
      long row) {
    byte[] bytes =
        switch (value) {
          case byte[] b -> b;
          case float[] f when t.elementType() == ElementType.FLOAT32 -> floatsToBytes(f);
          default -> throw wrongType(column, row, value);
        };
    if (bytes.length != t.byteSize()) {
      throw new UserException(
          "column '"
              + column.name()
              + "', row "
              + row
              + ": tensor value has "
              + bytes.length
              + " bytes but "
              + t.sqlName()
              + " needs "
              + t.byteSize());
    }
    vector.setSafe(index, bytes);
  }

  private static int toInt(ColumnDef column, long row, Object value) {
    long v = toLong(column, row, value);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new UserException(
          "column '"
              + column.name()
              + "', row "
              + row
              + ": value "
              + v
              + " is out of range for INTEGER");
    }
    return (int) v;
  }

  private static long toLong(ColumnDef column, long row, Object value) {
    // Integral types widen exactly; anything else (floats, strings) is a type error so that
    // silent truncation never happens.
    return switch (value) {
      case Long l -> l;
      case Integer i -> i;
      case Short s -> s;
      case Byte b -> b;
      default -> throw wrongType(column, row, value);
    };
  }

  private static double toDouble(ColumnDef column, long row, Object value) {
    return switch (value) {
      case Double d -> d;
      case Float f -> f;
      case Long l -> l;
      case Integer i -> i;
      case Short s -> s;
      case Byte b -> b;
      case BigDecimal bd -> bd.doubleValue();
      default -> throw wrongType(column, row, value);
    };
  }

  private static UserException wrongType(ColumnDef column, long row, Object value) {
    String shown = value instanceof byte[] b ? "byte[" + b.length + "]" : String.valueOf(value);
    if (shown.length() > MAX_SHOWN_VALUE_CHARS) {
      shown = shown.substring(0, MAX_SHOWN_VALUE_CHARS) + "...";
    }
    return new UserException(
        "column '"
            + column.name()
            + "', row "
            + row
            + ": expected "
            + column.type().sqlName()
            + ", got "
            + value.getClass().getSimpleName()
            + " "
            + shown);
  }

  private static long toMicros(LocalDateTime dt) {
    return dt.toEpochSecond(ZoneOffset.UTC) * MICROS_PER_SECOND + dt.getNano() / NANOS_PER_MICRO;
  }

  private static LocalDateTime fromMicros(long micros) {
    long seconds = Math.floorDiv(micros, MICROS_PER_SECOND);
    int nanos = (int) Math.floorMod(micros, MICROS_PER_SECOND) * NANOS_PER_MICRO;
    return LocalDateTime.ofEpochSecond(seconds, nanos, ZoneOffset.UTC);
  }

  /** Column names of a list, for messages. */
  static List<String> names(List<ColumnDef> columns) {
    List<String> out = new ArrayList<>();
    for (ColumnDef c : columns) {
      out.add(c.name());
    }
    return out;
  }
}
