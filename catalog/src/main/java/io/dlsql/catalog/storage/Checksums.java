package io.dlsql.catalog.storage;

import io.dlsql.catalog.UserException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * CRC32C checksums for every file the catalog writes: streams and channels that checksum what
 * passes through them, and verification of whole files on read.
 */
public final class Checksums {
  /** Bytes of the CRC32C trailer that ends manifest, weight and checkpoint files. */
  public static final int TRAILER_BYTES = Integer.BYTES;

  /** Chunk size for checksumming a file: large enough to amortize calls, small for the heap. */
  private static final int VERIFY_CHUNK_BYTES = 1 << 20;

  private Checksums() {}

  /** CRC32C of a byte range. */
  public static int of(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }

  /** CRC32C of the first {@code length} bytes of an open file; leaves the position untouched. */
  public static int of(FileChannel channel, long length) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer buf =
        ByteBuffer.allocateDirect((int) Math.min(VERIFY_CHUNK_BYTES, Math.max(length, 1)));
    long pos = 0;
    while (pos < length) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), length - pos));
      int n = channel.read(buf, pos);
      if (n < 0) {
        break;
      }
      buf.flip();
      crc.update(buf);
      pos += n;
    }
    return (int) crc.getValue();
  }

  /** The error for a file whose checksum does not match: names the file, says what to do. */
  public static UserException corrupt(Path file, String detail) {
    return new UserException(
        "file "
            + file
            + " is corrupt ("
            + detail
            + "); restore it from a backup or drop the "
            + "object that uses it");
  }

  /** An output stream that checksums and counts every byte written through it. */
  public static final class ChecksumOutputStream extends FilterOutputStream {
    private final CRC32C crc = new CRC32C();
    private long count;

    public ChecksumOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      crc.update(b);
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      crc.update(b, off, len);
      count += len;
    }

    /** CRC32C of everything written so far. */
    public int checksum() {
      return (int) crc.getValue();
    }

    /** Bytes written so far. */
    public long count() {
      return count;
    }
  }

  /** A byte channel that checksums and counts everything written through it to a file. */
  public static final class ChecksumChannel implements WritableByteChannel {
    private final WritableByteChannel target;
    private final CRC32C crc = new CRC32C();
    private long count;

    public ChecksumChannel(WritableByteChannel target) {
      this.target = target;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      ByteBuffer view = src.duplicate();
      int n = target.write(src);
      view.limit(view.position() + n);
      crc.update(view);
      count += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return target.isOpen();
    }

    /** Does not close the underlying channel: the owner forces and closes it. */
    @Override
    public void close() {}

    /** CRC32C of everything written so far. */
    public int checksum() {
      return (int) crc.getValue();
    }

    /** Bytes written so far. */
    public long count() {
      return count;
    }
  }
}
