package io.dlsql.catalog.source;

import io.dlsql.catalog.UserException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which files SQL statements may read: only those under a list of allowed directories, judged on
 * real paths so that {@code ..} and symbolic links cannot escape. Callers open the path {@link
 * #check} returns, not the one they were given.
 */
public final class FileAccessPolicy {
  private final List<Path> allowed;
  private final boolean unrestricted;

  /** A policy allowing files under these directories (resolved to their real paths now). */
  public FileAccessPolicy(List<Path> allowedDirectories) {
    this(resolve(allowedDirectories), false);
  }

  private FileAccessPolicy(List<Path> allowed, boolean unrestricted) {
    this.allowed = List.copyOf(allowed);
    this.unrestricted = unrestricted;
  }

  /** A policy that allows every readable file (an embedded engine run by its own user). */
  public static FileAccessPolicy unrestricted() {
    return new FileAccessPolicy(List.of(), true);
  }

  private static List<Path> resolve(List<Path> dirs) {
    List<Path> out = new ArrayList<>();
    for (Path d : dirs) {
      Path abs = d.toAbsolutePath().normalize();
      try {
        out.add(abs.toRealPath());
      } catch (IOException e) {
        // A directory that does not exist (yet) can still be named; nothing can be under it
        // until it exists, and then only through its normalized path.
        out.add(abs);
      }
    }
    return out;
  }

  /** The allowed directories (real paths); empty for an unrestricted policy. */
  public List<Path> allowedDirectories() {
    return allowed;
  }

  /**
   * Resolves {@code path} to its real path and checks that it is a readable regular file under an
   * allowed directory.
   *
   * @return the real path, which the caller should open
   * @throws UserException naming the path and the allowed directories if it is outside them, or
   *     saying that it does not exist or is not a file
   */
  public Path check(Path path) {
    Path abs = path.toAbsolutePath().normalize();
    // Judge the spelled path first, so that probing outside the allowed directories does not
    // reveal whether a file exists there.
    if (!unrestricted && !isAllowed(abs) && !isAllowedAfterResolvingParents(abs)) {
      throw refused(path, abs);
    }
    Path real;
    try {
      real = abs.toRealPath();
    } catch (NoSuchFileException e) {
      throw new UserException("file " + path + " does not exist");
    } catch (IOException e) {
      throw new UserException("file " + path + " cannot be read: " + e.getMessage(), e);
    }
    if (!unrestricted && !isAllowed(real)) {
      throw refused(path, real);
    }
    if (!Files.isRegularFile(real)) {
      throw new UserException("path " + path + " is not a regular file");
    }
    if (!Files.isReadable(real)) {
      throw new UserException("file " + path + " is not readable by this process");
    }
    return real;
  }

  /**
   * An allowed directory may itself be reached through a link (e.g. {@code /tmp} on macOS), so a
   * spelled path under the link's name is judged by the real path of its parent directory.
   */
  private boolean isAllowedAfterResolvingParents(Path abs) {
    Path parent = abs.getParent();
    if (parent == null) {
      return false;
    }
    try {
      return isAllowed(parent.toRealPath().resolve(abs.getFileName()));
    } catch (IOException e) {
      return false;
    }
  }

  private boolean isAllowed(Path p) {
    for (Path dir : allowed) {
      if (p.startsWith(dir)) {
        return true;
      }
    }
    return false;
  }

  private UserException refused(Path given, Path resolved) {
    String via =
        given.toAbsolutePath().normalize().equals(resolved)
            ? ""
            : " (resolves to " + resolved + ")";
    return new UserException(
        "reading "
            + given
            + via
            + " is not allowed: files must be under "
            + (allowed.isEmpty() ? "(no directories are allowed)" : allowed.toString())
            + "; ask the administrator to add the directory to the allowed list");
  }
}
