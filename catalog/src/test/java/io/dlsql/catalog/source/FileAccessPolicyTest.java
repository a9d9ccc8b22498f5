package io.dlsql.catalog.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dlsql.catalog.UserException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file access policy judges real paths: no escape by "..", symlinked files or directories. */
class FileAccessPolicyTest {
  @TempDir Path root;

  @Test
  void onlyFilesUnderAllowedDirectoriesPass() throws IOException {
    Path allowed = Files.createDirectories(root.resolve("data"));
    Path secret =
        Files.writeString(Files.createDirectories(root.resolve("secret")).resolve("key.txt"), "k");
    Path ok = Files.writeString(allowed.resolve("train.csv"), "a\n1\n");
    Files.createSymbolicLink(allowed.resolve("link-to-secret"), secret);
    Files.createSymbolicLink(allowed.resolve("dir-link"), secret.getParent());
    Path linkToOk = Files.createSymbolicLink(root.resolve("outside-link.csv"), ok);

    FileAccessPolicy policy = new FileAccessPolicy(List.of(allowed));
    assertEquals(ok.toRealPath(), policy.check(ok));
    assertEquals(ok.toRealPath(), policy.check(allowed.resolve("sub/../train.csv")));

    for (Path bad :
        List.of(
            secret,
            allowed.resolve("../secret/key.txt"),
            allowed.resolve("link-to-secret"),
            allowed.resolve("dir-link/key.txt"),
            linkToOk)) {
      UserException e = assertThrows(UserException.class, () -> policy.check(bad), bad.toString());
      assertTrue(
          e.getMessage().contains(bad.toString())
              && e.getMessage().contains(allowed.toRealPath().toString())
              && e.getMessage().contains("not allowed"),
          e.getMessage());
    }
    UserException missing =
        assertThrows(UserException.class, () -> policy.check(allowed.resolve("nope.csv")));
    assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    UserException outsideMissing =
        assertThrows(UserException.class, () -> policy.check(root.resolve("secret/nope")));
    assertTrue(
        outsideMissing.getMessage().contains("not allowed"), "existence outside is not revealed");
    assertThrows(UserException.class, () -> policy.check(allowed), "a directory is not a file");
  }

  @Test
  void allowedDirectoryReachedThroughALinkStillWorks() throws IOException {
    Path real = Files.createDirectories(root.resolve("real"));
    Path file = Files.writeString(real.resolve("f.csv"), "x");
    Path alias = Files.createSymbolicLink(root.resolve("alias"), real);
    FileAccessPolicy policy = new FileAccessPolicy(List.of(alias));
    assertEquals(file.toRealPath(), policy.check(alias.resolve("f.csv")));
    assertEquals(file.toRealPath(), policy.check(file));
  }

  @Test
  void unrestrictedAllowsAnyExistingFile() throws IOException {
    Path f = Files.writeString(root.resolve("x"), "x");
    assertEquals(f.toRealPath(), FileAccessPolicy.unrestricted().check(f));
  }
}
