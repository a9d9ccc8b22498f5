package io.dlsql.catalog.storage;

import io.dlsql.catalog.UserException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The exclusive lock one process holds on a data directory while a catalog is open. It is an OS
 * file lock, so the kernel releases it when the process dies (even by {@code kill -9}) and a stale
 * lock never blocks recovery. The holder's pid is written into the file so that the refusal can say
 * who holds it.
 */
public final class DirectoryLock implements AutoCloseable {
  /** Name of the lock file inside the data directory. */
  public static final String FILE_NAME = "LOCK";

  /** Directories open in this JVM: file locks are per process, so check those ourselves. */
  private static final Set<Path> OPEN_IN_THIS_PROCESS = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock on {@code dir} (which must exist).
   *
   * @throws UserException if this or another process already holds it
   */
  public static DirectoryLock acquire(Path dir) throws IOException {
    Path real = dir.toRealPath();
    if (!OPEN_IN_THIS_PROCESS.add(real)) {
      throw new UserException(
          "data directory "
              + real
              + " is already open in this process; share the open catalog"
              + " instead of opening it twice");
    }
    FileChannel channel = null;
    try {
      channel =
          FileChannel.open(
              real.resolve(FILE_NAME),
              StandardOpenOption.CREATE,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        String holder = readHolder(channel);
        throw new UserException(
            "data directory "
                + real
                + " is in use by another dlsql process"
                + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                + "; close that process or use a different data directory");
      }
      channel.truncate(0);
      channel.write(
          ByteBuffer.wrap(
              Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.US_ASCII)),
          0);
      channel.force(true);
      return new DirectoryLock(real, channel, lock);
    } catch (IOException | RuntimeException e) {
      OPEN_IN_THIS_PROCESS.remove(real);
      if (channel != null) {
        channel.close();
      }
      throw e;
    }
  }

  private static String readHolder(FileChannel channel) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(Long.SIZE);
    int n = channel.read(b, 0);
    return n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.US_ASCII).trim();
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
      channel.close();
    } finally {
      OPEN_IN_THIS_PROCESS.remove(dir);
    }
  }
}
