package io.dlsql.catalog.storage;

import io.dlsql.catalog.UserException;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The field encoding shared by the catalog's binary files (manifest, weights, checkpoints, training
 * log): big-endian integers, length-prefixed UTF-8 strings, a presence byte before nullable values.
 * Files start with an 8-byte magic and an int version and end with a CRC32C trailer over everything
 * before it.
 */
public final class Encoding {
  private static final int ABSENT = 0;
  private static final int PRESENT = 1;
  private static final int NULL_LENGTH = -1;

  private Encoding() {}

  public static void writeString(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeInt(NULL_LENGTH);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  public static void writeNullableDouble(DataOutputStream out, Double d) throws IOException {
    out.writeByte(d == null ? ABSENT : PRESENT);
    if (d != null) {
      out.writeDouble(d);
    }
  }

  public static void writeNullableLong(DataOutputStream out, Long v) throws IOException {
    out.writeByte(v == null ? ABSENT : PRESENT);
    if (v != null) {
      out.writeLong(v);
    }
  }

  public static void writeInstant(DataOutputStream out, Instant t) throws IOException {
    out.writeLong(t.getEpochSecond());
    out.writeInt(t.getNano());
  }

  public static void writeIntArray(DataOutputStream out, int[] a) throws IOException {
    out.writeInt(a.length);
    for (int v : a) {
      out.writeInt(v);
    }
  }

  public static void writeStringMap(DataOutputStream out, Map<String, String> m)
      throws IOException {
    out.writeInt(m.size());
    for (Map.Entry<String, String> e : m.entrySet()) {
      writeString(out, e.getKey());
      writeString(out, e.getValue());
    }
  }

  /**
   * Reads a whole checksummed file, verifies its trailer and magic, and returns a decoder
   * positioned after the magic; the version is the first thing to read.
   *
   * @throws NoSuchFileException if the file does not exist
   * @throws UserException naming the file when the checksum or magic does not match
   */
  public static Decoder readVerified(Path file, byte[] magic) throws IOException {
    long size = Files.size(file);
    if (size > Integer.MAX_VALUE) {
      throw new UserException(
          "file " + file + " is larger than 2 GiB, which this catalog cannot load");
    }
    byte[] bytes = Files.readAllBytes(file);
    if (bytes.length < magic.length + Checksums.TRAILER_BYTES) {
      throw Checksums.corrupt(file, "only " + bytes.length + " bytes");
    }
    int payload = bytes.length - Checksums.TRAILER_BYTES;
    int stored = ByteBuffer.wrap(bytes, payload, Checksums.TRAILER_BYTES).getInt();
    int actual = Checksums.of(bytes, 0, payload);
    if (stored != actual) {
      throw Checksums.corrupt(file, "checksum mismatch");
    }
    if (!Arrays.equals(bytes, 0, magic.length, magic, 0, magic.length)) {
      throw Checksums.corrupt(
          file, "not a " + new String(magic, StandardCharsets.US_ASCII) + " file");
    }
    return new Decoder(file, ByteBuffer.wrap(bytes, 0, payload).position(magic.length).slice());
  }

  /**
   * Reads the fields of a verified file. A read past the end means the writer and reader disagree
   * on the format; it is reported as corruption of that file.
   */
  public static final class Decoder {
    private final Path file;
    private final ByteBuffer buf;

    public Decoder(Path file, ByteBuffer buf) {
      this.file = file;
      this.buf = buf;
    }

    public Path file() {
      return file;
    }

    public ByteBuffer buffer() {
      return buf;
    }

    public boolean hasRemaining() {
      return buf.hasRemaining();
    }

    public int readInt() {
      try {
        return buf.getInt();
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    public long readLong() {
      try {
        return buf.getLong();
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    public double readDouble() {
      try {
        return buf.getDouble();
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    public byte readByte() {
      try {
        return buf.get();
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    public boolean readBoolean() {
      return readByte() != ABSENT;
    }

    public String readString() {
      int n = readInt();
      if (n == NULL_LENGTH) {
        return null;
      }
      if (n < 0 || n > buf.remaining()) {
        throw truncated();
      }
      String s =
          new String(buf.array(), buf.arrayOffset() + buf.position(), n, StandardCharsets.UTF_8);
      buf.position(buf.position() + n);
      return s;
    }

    public Double readNullableDouble() {
      return readBoolean() ? readDouble() : null;
    }

    public Long readNullableLong() {
      return readBoolean() ? readLong() : null;
    }

    public Instant readInstant() {
      long seconds = readLong();
      int nanos = readInt();
      return Instant.ofEpochSecond(seconds, nanos);
    }

    public int[] readIntArray() {
      int n = readCount();
      int[] a = new int[n];
      for (int i = 0; i < n; i++) {
        a[i] = readInt();
      }
      return a;
    }

    public Map<String, String> readStringMap() {
      int n = readCount();
      Map<String, String> m = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        m.put(readString(), readString());
      }
      return m;
    }

    /** A non-negative element count that cannot exceed the bytes left (each element >= 1 byte). */
    public int readCount() {
      int n = readInt();
      if (n < 0 || n > buf.remaining()) {
        throw truncated();
      }
      return n;
    }

    /** A slice of the next {@code n} bytes, sharing the file's buffer. */
    public ByteBuffer readBytes(long n) {
      if (n < 0 || n > buf.remaining()) {
        throw truncated();
      }
      ByteBuffer slice = buf.slice(buf.position(), (int) n);
      buf.position(buf.position() + (int) n);
      return slice;
    }

    /** Checks the format version this reader understands. */
    public void expectVersion(int supported) {
      int v = readInt();
      if (v != supported) {
        throw new UserException(
            "file "
                + file
                + " has format version "
                + v
                + " but this dlsql reads version "
                + supported
                + "; open it with the dlsql release that wrote it");
      }
    }

    private UserException truncated() {
      return Checksums.corrupt(file, "its contents end early or do not match the format");
    }
  }
}
