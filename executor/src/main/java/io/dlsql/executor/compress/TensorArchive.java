package io.dlsql.executor.compress;

import io.dlsql.catalog.UserException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named arrays of mixed element types in one byte stream, the stored form of every compressed
 * representation (int8 codes, 16-bit weights, packed codebook indices, CSR arrays, fp32 rest) so
 * the catalog writes one blob per variant whatever the method. Layout (big-endian): magic, version,
 * entry count, then per entry its name (UTF), type tag, length and values; plus string metadata.
 * The catalog adds its own checksum and atomic write around it.
 */
public final class TensorArchive {
  private static final int MAGIC = 0x444c5a43; // "DLZC"
  private static final int VERSION = 1;

  private final LinkedHashMap<String, Object> entries = new LinkedHashMap<>();
  private final LinkedHashMap<String, String> metadata = new LinkedHashMap<>();

  /** Adds a float32, int32, int16 or int8 array under a new name. */
  public TensorArchive put(String name, Object array) {
    if (!(array instanceof float[] || array instanceof int[] || array instanceof short[] || array instanceof byte[])) {
      throw new IllegalArgumentException("unsupported array for " + name + ": " + array);
    }
    if (entries.putIfAbsent(name, array) != null) {
      throw new IllegalArgumentException("duplicate archive entry " + name);
    }
    return this;
  }

  public TensorArchive putMetadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  public Map<String, Object> entries() {
    return Collections.unmodifiableMap(entries);
  }

  public Map<String, String> metadata() {
    return Collections.unmodifiableMap(metadata);
  }

  public String metadata(String key) {
    String v = metadata.get(key);
    if (v == null) {
      throw new UserException("the stored compressed model lacks " + key);
    }
    return v;
  }

  public float[] floats(String name) {
    return typed(name, float[].class);
  }

  public byte[] bytes(String name) {
    return typed(name, byte[].class);
  }

  public short[] shorts(String name) {
    return typed(name, short[].class);
  }

  public int[] ints(String name) {
    return typed(name, int[].class);
  }

  public boolean has(String name) {
    return entries.containsKey(name);
  }

  private <T> T typed(String name, Class<T> type) {
    Object v = entries.get(name);
    if (!type.isInstance(v)) {
      throw new UserException("the stored compressed model lacks " + name + " (" + type.getSimpleName() + ")");
    }
    return type.cast(v);
  }

  /** Bytes of the stored values (not names or headers): what size accounting counts. */
  public long payloadBytes() {
    long n = 0;
    for (Object v : entries.values()) {
      n += switch (v) {
        case float[] f -> (long) f.length * Float.BYTES;
        case int[] i -> (long) i.length * Integer.BYTES;
        case short[] s -> (long) s.length * Short.BYTES;
        case byte[] b -> b.length;
        default -> throw new IllegalStateException(String.valueOf(v));
      };
    }
    return n;
  }

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(metadata.size());
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeUTF(e.getValue());
      }
      out.writeInt(entries.size());
      for (Map.Entry<String, Object> e : entries.entrySet()) {
        out.writeUTF(e.getKey());
        switch (e.getValue()) {
          case float[] f -> {
            out.writeByte('f');
            out.writeInt(f.length);
            for (float v : f) {
              out.writeFloat(v);
            }
          }
          case int[] a -> {
            out.writeByte('i');
            out.writeInt(a.length);
            for (int v : a) {
              out.writeInt(v);
            }
          }
          case short[] s -> {
            out.writeByte('s');
            out.writeInt(s.length);
            for (short v : s) {
              out.writeShort(v);
            }
          }
          case byte[] b -> {
            out.writeByte('b');
            out.writeInt(b.length);
            out.write(b);
          }
          default -> throw new IllegalStateException(String.valueOf(e.getValue()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** @throws UserException when the bytes are not an archive of this version */
  public static TensorArchive decode(byte[] data) {
    TensorArchive a = new TensorArchive();
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      if (in.readInt() != MAGIC) {
        throw new UserException("the stored compressed model is not a dlsql tensor archive");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new UserException("the stored compressed model has archive version " + version + ", expected " + VERSION);
      }
      int meta = in.readInt();
      for (int i = 0; i < meta; i++) {
        a.metadata.put(in.readUTF(), in.readUTF());
      }
      int count = in.readInt();
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        int type = in.readByte();
        int length = in.readInt();
        if (length < 0 || length > data.length) {
          throw new UserException("the stored compressed model is corrupt at " + name);
        }
        Object v = switch (type) {
          case 'f' -> {
            float[] f = new float[length];
            for (int j = 0; j < length; j++) {
              f[j] = in.readFloat();
            }
            yield f;
          }
          case 'i' -> {
            int[] x = new int[length];
            for (int j = 0; j < length; j++) {
              x[j] = in.readInt();
            }
            yield x;
          }
          case 's' -> {
            short[] s = new short[length];
            for (int j = 0; j < length; j++) {
              s[j] = in.readShort();
            }
            yield s;
          }
          case 'b' -> {
            byte[] b = new byte[length];
            in.readFully(b);
            yield b;
          }
          default -> throw new UserException("the stored compressed model is corrupt at " + name);
        };
        a.entries.put(name, v);
      }
    } catch (IOException e) {
      throw new UserException("the stored compressed model is truncated or corrupt: " + e.getMessage());
    }
    return a;
  }
}
