package io.dlsql.catalog.storage;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * The one way the catalog puts a file in place: write a temp file next to the target, force it to
 * disk, rename it atomically over the target, then force the directory so the rename itself
 * survives a crash. A reader therefore sees either the old file or the complete new one, never a
 * mix. Temp files end in {@link #TEMP_SUFFIX} and are removed when the catalog opens.
 */
public final class AtomicFiles {
  /** Suffix of every temp file; anything with it is garbage after a crash. */
  public static final String TEMP_SUFFIX = ".tmp";

  private static final int STREAM_BUFFER_BYTES = 1 << 16;

  private AtomicFiles() {}

  /** Writes the body of a file. */
  @FunctionalInterface
  public interface Body<T> {
    void write(T out) throws IOException;
  }

  /** A fresh temp file path in {@code dir} (not yet created); unique per call. */
  public static Path tempPath(Path dir, String prefix) {
    return dir.resolve(prefix + "-" + UUID.randomUUID() + TEMP_SUFFIX);
  }

  /**
   * Writes {@code target} atomically with a CRC32C trailer over everything the body wrote.
   *
   * @return the size of the file in bytes, trailer included
   */
  public static long writeChecksummed(Path target, Body<DataOutputStream> body) throws IOException {
    Path temp = tempPath(target.getParent(), target.getFileName().toString());
    long size;
    try {
      try (FileChannel ch =
          FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        OutputStream raw =
            new BufferedOutputStream(Channels.newOutputStream(ch), STREAM_BUFFER_BYTES);
        Checksums.ChecksumOutputStream summed = new Checksums.ChecksumOutputStream(raw);
        DataOutputStream data = new DataOutputStream(summed);
        body.write(data);
        data.flush();
        int crc = summed.checksum();
        DataOutputStream trailer = new DataOutputStream(raw);
        trailer.writeInt(crc);
        trailer.flush();
        size = summed.count() + Checksums.TRAILER_BYTES;
        ch.force(true);
      }
      commit(temp, target);
    } finally {
      Files.deleteIfExists(temp);
    }
    return size;
  }

  /**
   * Makes a completely written temp file durable and renames it over {@code target} atomically,
   * then forces the directory entry.
   */
  public static void commit(Path temp, Path target) throws IOException {
    try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IllegalStateException(
          "the file system of " + target.getParent() + " cannot rename atomically", e);
    }
    fsyncDirectory(target.getParent());
  }

  /** Forces a directory's entries (creations, renames, deletions) to disk. */
  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms cannot open a directory for fsync; POSIX ones (ours) can. Surface the
      // error there, since losing a rename would break crash safety.
      if (!System.getProperty("os.name", "").toLowerCase().contains("win")) {
        throw e;
      }
    }
  }

  /**
   * Deletes every leftover temp file directly in {@code dir} (a crash mid-write leaves them).
   *
   * @return how many were deleted
   */
  public static int deleteTempFiles(Path dir) throws IOException {
    int deleted = 0;
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*" + TEMP_SUFFIX)) {
      for (Path p : entries) {
        if (Files.isRegularFile(p) && Files.deleteIfExists(p)) {
          deleted++;
        }
      }
    }
    if (deleted > 0) {
      fsyncDirectory(dir);
    }
    return deleted;
  }
}
