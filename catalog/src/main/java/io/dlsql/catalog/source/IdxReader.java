package io.dlsql.catalog.source;

import io.dlsql.catalog.UserException;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST: an image file (unsigned bytes, 3
 * dimensions) and a label file (unsigned bytes, 1 dimension), each optionally gzip-compressed
 * (recognized by its magic bytes, not its name). Everything the header promises is checked: magic
 * numbers, dimensions, that the counts agree and that no file is cut short.
 */
public final class IdxReader {
  /** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
  static final int IMAGES_MAGIC = 0x00000803;

  /** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
  static final int LABELS_MAGIC = 0x00000801;

  private static final int GZIP_MAGIC_0 = 0x1f;
  private static final int GZIP_MAGIC_1 = 0x8b;
  private static final int GZIP_MAGIC_BYTES = 2;
  private static final int IMAGES_HEADER_BYTES = 16;
  private static final int LABELS_HEADER_BYTES = 8;
  private static final int STREAM_BUFFER_BYTES = 1 << 16;

  /** Java arrays stop a little short of Integer.MAX_VALUE. */
  private static final long MAX_PAYLOAD_BYTES = Integer.MAX_VALUE - 8;

  private IdxReader() {}

  /**
   * Reads an image file and its label file ({@code labels} may be null for unlabeled images).
   *
   * @throws UserException naming the file when it is missing, not IDX, of the wrong kind, truncated
   *     (with the bytes expected and found) or disagrees with the other file's count
   */
  public static IdxDataset read(Path images, Path labels) {
    Parsed img = readFile(images, IMAGES_MAGIC, IMAGES_HEADER_BYTES);
    ByteBuffer h = ByteBuffer.wrap(img.header);
    h.getInt();
    int count = h.getInt();
    int rows = h.getInt();
    int cols = h.getInt();
    if (labels == null) {
      return new IdxDataset(images, null, count, rows, cols, img.payload, null);
    }
    Parsed lab = readFile(labels, LABELS_MAGIC, LABELS_HEADER_BYTES);
    int labelCount = ByteBuffer.wrap(lab.header).getInt(Integer.BYTES);
    if (labelCount != count) {
      throw new UserException(
          "image file "
              + images
              + " has "
              + count
              + " images but label file "
              + labels
              + " has "
              + labelCount
              + " labels; pass matching files");
    }
    return new IdxDataset(images, labels, count, rows, cols, img.payload, lab.payload);
  }

  private record Parsed(byte[] header, byte[] payload) {}

  private static Parsed readFile(Path file, int magic, int headerBytes) {
    try (InputStream in = open(file)) {
      byte[] header = new byte[headerBytes];
      int got = readFully(in, header, 0, headerBytes);
      if (got < Integer.BYTES) {
        throw new UserException(
            "file " + file + " is too short to be an IDX file (" + got + " bytes)");
      }
      int actualMagic = ByteBuffer.wrap(header).getInt();
      if (actualMagic != magic) {
        throw wrongMagic(file, magic, actualMagic);
      }
      if (got < headerBytes) {
        throw truncated(file, headerBytes, got, "header");
      }
      long payloadBytes = payloadBytes(file, header, magic);
      byte[] payload = new byte[(int) payloadBytes];
      int read = readFully(in, payload, 0, payload.length);
      if (read < payload.length) {
        throw truncated(file, headerBytes + payloadBytes, headerBytes + (long) read, "data");
      }
      if (in.read() >= 0) {
        throw new UserException(
            "file "
                + file
                + " is longer than its header says ("
                + (headerBytes + payloadBytes)
                + " bytes); it is not a well-formed IDX file");
      }
      return new Parsed(header, payload);
    } catch (NoSuchFileException e) {
      throw new UserException("file " + file + " does not exist");
    } catch (EOFException e) {
      throw new UserException("file " + file + " is truncated: its gzip stream ends early");
    } catch (ZipException e) {
      throw new UserException("file " + file + " is not a valid gzip file: " + e.getMessage());
    } catch (IOException e) {
      throw new UserException("file " + file + " cannot be read: " + e.getMessage(), e);
    }
  }

  private static long payloadBytes(Path file, byte[] header, int magic) {
    ByteBuffer h = ByteBuffer.wrap(header);
    h.getInt();
    long count = h.getInt();
    if (count < 0) {
      throw new UserException("file " + file + " has a negative item count in its header");
    }
    if (magic == LABELS_MAGIC) {
      return count;
    }
    int rows = h.getInt();
    int cols = h.getInt();
    if (rows < 1 || cols < 1) {
      throw new UserException(
          "file "
              + file
              + " has image dimensions "
              + rows
              + "x"
              + cols
              + "; both must be positive");
    }
    long bytes = count * rows * cols;
    if (bytes > MAX_PAYLOAD_BYTES) {
      throw new UserException(
          "file " + file + " holds " + bytes + " bytes of images, more than 2 GiB");
    }
    return bytes;
  }

  private static InputStream open(Path file) throws IOException {
    BufferedInputStream in =
        new BufferedInputStream(Files.newInputStream(file), STREAM_BUFFER_BYTES);
    in.mark(GZIP_MAGIC_BYTES);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    if (b0 == GZIP_MAGIC_0 && b1 == GZIP_MAGIC_1) {
      return new GZIPInputStream(in, STREAM_BUFFER_BYTES);
    }
    return in;
  }

  /** Reads until {@code len} bytes or the end; a gzip stream cut short counts as the end. */
  private static int readFully(InputStream in, byte[] buf, int off, int len) throws IOException {
    int total = 0;
    while (total < len) {
      int n;
      try {
        n = in.read(buf, off + total, len - total);
      } catch (EOFException e) {
        break;
      }
      if (n < 0) {
        break;
      }
      total += n;
    }
    return total;
  }

  private static UserException wrongMagic(Path file, int expected, int actual) {
    String kind = expected == IMAGES_MAGIC ? "an IDX image file" : "an IDX label file";
    String hint = "";
    if (actual == LABELS_MAGIC) {
      hint = "; it looks like a label file (pass the image file first, then the labels)";
    } else if (actual == IMAGES_MAGIC) {
      hint = "; it looks like an image file (pass the image file first, then the labels)";
    }
    return new UserException(
        "file "
            + file
            + " is not "
            + kind
            + ": magic number 0x"
            + String.format("%08x", actual)
            + ", expected 0x"
            + String.format("%08x", expected)
            + hint);
  }

  private static UserException truncated(Path file, long expected, long found, String part) {
    return new UserException(
        "file "
            + file
            + " is truncated in its "
            + part
            + ": expected "
            + expected
            + " bytes (uncompressed), found "
            + found);
  }
}
