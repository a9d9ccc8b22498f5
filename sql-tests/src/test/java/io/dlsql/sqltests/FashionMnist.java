package io.dlsql.sqltests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Assumptions;

/**
 * The Fashion-MNIST files of Debian's {@code dataset-fashion-mnist} package, which the remote and
 * crash tests train on; tests skip when the package is not installed.
 */
final class FashionMnist {
  static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");
  static final Path TRAIN_IMAGES = DIR.resolve("train-images-idx3-ubyte.gz");
  static final Path TRAIN_LABELS = DIR.resolve("train-labels-idx1-ubyte.gz");

  private FashionMnist() {}

  /** Skips the calling test unless the data set package is installed. */
  static void assumeInstalled() {
    Assumptions.assumeTrue(Files.isReadable(TRAIN_IMAGES) && Files.isReadable(TRAIN_LABELS),
        "Debian package dataset-fashion-mnist is not installed (" + DIR + ")");
  }

  /** Creates {@code table} from the first {@code rows} training images (columns id, image, label). */
  static void createTable(Statement statement, String table, int rows) throws SQLException {
    statement.execute("CREATE TABLE " + table + " AS SELECT * FROM TABLE(read_idx('" + TRAIN_IMAGES + "', '"
        + TRAIN_LABELS + "')) WHERE id < " + rows);
  }
}
