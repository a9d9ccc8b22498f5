package io.dlsql.planner.cost;

import io.dlsql.executor.kernel.Gemm;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Identifies the executor code that measured times belong to: a digest of every class file of
 * the executor module (kernels, layers, network wiring). Machine ceilings and kernel tuning
 * records are stored under keys that carry it, so after the kernels change a data directory's
 * old numbers no longer match and are measured again instead of planning with stale ones.
 */
public final class KernelFingerprint {
  /** Class files under this resource path make up the executor. */
  static final String EXECUTOR_PACKAGE_PATH = "io/dlsql/executor/";
  /** Hex digits kept from the digest: 48 bits, no accidental collision between builds. */
  static final int HEX_DIGITS = 12;

  private static volatile String current;

  private KernelFingerprint() {}

  /**
   * The fingerprint of the executor this process runs, computed once. When its class files cannot
   * be read (an unusual class loader), each process gets its own value: stored numbers are then
   * never trusted across runs, which costs a calibration per process but never a stale plan.
   */
  public static String current() {
    String fp = current;
    if (fp == null) {
      synchronized (KernelFingerprint.class) {
        fp = current;
        if (fp == null) {
          fp = compute();
          current = fp;
        }
      }
    }
    return fp;
  }

  private static String compute() {
    try {
      CodeSource source = Gemm.class.getProtectionDomain().getCodeSource();
      if (source == null || source.getLocation() == null) {
        return perProcess();
      }
      Path location = Path.of(source.getLocation().toURI());
      TreeMap<String, byte[]> classes = Files.isDirectory(location)
          ? fromDirectory(location) : fromJar(location);
      if (classes.isEmpty()) {
        return perProcess();
      }
      return digest(classes);
    } catch (IOException | URISyntaxException | RuntimeException e) {
      return perProcess();
    }
  }

  /** Digest over (name, bytes) pairs in name order, so the file system's order does not matter. */
  static String digest(TreeMap<String, byte[]> classes) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
    classes.forEach((name, bytes) -> {
      sha.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      sha.update((byte) 0);
      sha.update(bytes);
    });
    return HexFormat.of().formatHex(sha.digest()).substring(0, HEX_DIGITS);
  }

  private static TreeMap<String, byte[]> fromDirectory(Path root) throws IOException {
    TreeMap<String, byte[]> out = new TreeMap<>();
    Path dir = root.resolve(EXECUTOR_PACKAGE_PATH);
    if (!Files.isDirectory(dir)) {
      return out;
    }
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(p -> p.toString().endsWith(".class")).forEach(files::add);
    }
    for (Path p : files) {
      try {
        out.put(root.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  private static TreeMap<String, byte[]> fromJar(Path jar) throws IOException {
    TreeMap<String, byte[]> out = new TreeMap<>();
    try (JarFile file = new JarFile(jar.toFile())) {
      Enumeration<JarEntry> entries = file.entries();
      while (entries.hasMoreElements()) {
        JarEntry e = entries.nextElement();
        if (e.getName().startsWith(EXECUTOR_PACKAGE_PATH) && e.getName().endsWith(".class")) {
          try (InputStream in = file.getInputStream(e)) {
            out.put(e.getName(), in.readAllBytes());
          }
        }
      }
    }
    return out;
  }

  private static String perProcess() {
    return "p" + Long.toHexString(ProcessHandle.current().pid()) + Long.toHexString(System.nanoTime());
  }
}
