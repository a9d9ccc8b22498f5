import io.dlsql.catalog.source.IdxDataset;
import io.dlsql.catalog.source.IdxReader;
import io.dlsql.executor.tensor.Tensor;
import io.dlsql.executor.train.InMemoryDataset;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the compression benchmarks beside this file share: the Fashion-MNIST files, images as the
 * catalog's IDX reader scales them, {@code --key value} arguments and medians. (The JDK source
 * launcher compiles sibling files of the program it runs, so this needs no build.)
 */
final class BenchData {
  private BenchData() {}

  private static final String DATA = "/usr/share/datasets/fashion-mnist/";

  static IdxDataset train() {
    return IdxReader.read(Path.of(DATA + "train-images-idx3-ubyte.gz"), Path.of(DATA + "train-labels-idx1-ubyte.gz"));
  }

  static IdxDataset test() {
    return IdxReader.read(Path.of(DATA + "t10k-images-idx3-ubyte.gz"), Path.of(DATA + "t10k-labels-idx1-ubyte.gz"));
  }

  /** The first {@code n} images, pixels scaled to [0, 1] as the catalog's IDX reader does. */
  static InMemoryDataset images(Arena arena, IdxDataset d, int n) {
    int pixels = d.imageRows() * d.imageCols();
    MemorySegment values = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * pixels);
    for (int i = 0; i < n; i++) {
      byte[] img = d.image(i);
      for (int p = 0; p < pixels; p++) {
        values.setAtIndex(ValueLayout.JAVA_FLOAT, (long) i * pixels + p, (img[p] & 0xFF) / 255f);
      }
    }
    return InMemoryDataset.ofFloat32(values, n, new int[] {1, d.imageRows(), d.imageCols()}, null);
  }

  /** The first {@code dest.dim(0)} images into {@code dest}, scaled as {@link #images}. */
  static void load(IdxDataset d, Tensor dest) {
    MemorySegment out = dest.segment();
    int pixels = d.imageRows() * d.imageCols();
    for (int k = 0; k < dest.dim(0); k++) {
      byte[] img = d.image(k);
      for (int p = 0; p < pixels; p++) {
        out.setAtIndex(Tensor.F32, (long) k * pixels + p, (img[p] & 0xFF) / 255f);
      }
    }
  }

  /** {@code --key value} pairs; a key followed by another key (or nothing) is a flag, "true". */
  static Map<String, String> parse(String[] args) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + args[i]);
      }
      String key = args[i].substring(2);
      if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        out.put(key, args[++i]);
      } else {
        out.put(key, "true");
      }
    }
    return out;
  }

  /** The upper median (the middle value for an odd count). */
  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
