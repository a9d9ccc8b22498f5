package io.dlsql.catalog.storage;

import io.dlsql.catalog.DType;
import io.dlsql.catalog.NDArray;
import io.dlsql.catalog.UserException;
import io.dlsql.catalog.WeightSet;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The weight and checkpoint file format. Layout (header integers big-endian, array payloads
 * little-endian as the executor uses them):
 *
 * <pre>
 *   magic "DLSQLWTS"   version:int
 *   meta: count:int, (key:string, value:string)*
 *   arrays: count:int, per array: name:string, dtype:string, shape:int[], bytes:long, payload
 *   crc32c:int over everything above
 * </pre>
 */
public final class WeightFiles {
  private static final byte[] MAGIC = "DLSQLWTS".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;
  private static final int COPY_CHUNK_BYTES = 1 << 16;

  private WeightFiles() {}

  /** The contents of a weight or checkpoint file. */
  public record Contents(Map<String, String> meta, WeightSet weights) {}

  /**
   * Writes a weight file atomically.
   *
   * @return its size in bytes
   */
  public static long write(Path target, WeightSet weights, Map<String, String> meta)
      throws IOException {
    return AtomicFiles.writeChecksummed(
        target,
        out -> {
          out.write(MAGIC);
          out.writeInt(VERSION);
          Encoding.writeStringMap(out, meta);
          out.writeInt(weights.arrays().size());
          for (Map.Entry<String, NDArray> e : weights.arrays().entrySet()) {
            NDArray a = e.getValue();
            Encoding.writeString(out, e.getKey());
            Encoding.writeString(out, a.dtype().name());
            Encoding.writeIntArray(out, a.shape());
            out.writeLong(a.byteSize());
            writePayload(out, a.data());
          }
        });
  }

  private static void writePayload(DataOutputStream out, ByteBuffer data) throws IOException {
    if (data.hasArray() && !data.isReadOnly()) {
      out.write(data.array(), data.arrayOffset() + data.position(), data.remaining());
      return;
    }
    byte[] chunk = new byte[Math.min(COPY_CHUNK_BYTES, data.remaining())];
    while (data.hasRemaining()) {
      int n = Math.min(chunk.length, data.remaining());
      data.get(chunk, 0, n);
      out.write(chunk, 0, n);
    }
  }

  /** Reads and verifies a weight file; arrays share one heap buffer holding the file. */
  public static Contents read(Path file) throws IOException {
    Encoding.Decoder in = Encoding.readVerified(file, MAGIC);
    in.expectVersion(VERSION);
    Map<String, String> meta = in.readStringMap();
    LinkedHashMap<String, NDArray> arrays = new LinkedHashMap<>();
    for (int i = 0, n = in.readCount(); i < n; i++) {
      String name = in.readString();
      String dtypeName = in.readString();
      DType dtype;
      try {
        dtype = DType.valueOf(dtypeName);
      } catch (IllegalArgumentException e) {
        throw new UserException("file " + file + " has an array of unknown type " + dtypeName);
      }
      int[] shape = in.readIntArray();
      long bytes = in.readLong();
      try {
        arrays.put(name, new NDArray(shape, dtype, in.readBytes(bytes)));
      } catch (IllegalArgumentException e) {
        throw Checksums.corrupt(file, "array " + name + ": " + e.getMessage());
      }
    }
    return new Contents(meta, new WeightSet(arrays));
  }
}
