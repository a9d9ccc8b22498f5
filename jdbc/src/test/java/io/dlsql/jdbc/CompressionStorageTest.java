package io.dlsql.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every compressed form survives closing and reopening the catalog: the variants' sys.models rows
 * and their predictions are the same afterwards (what a script in one connection cannot show).
 */
class CompressionStorageTest {
  private static final int IMAGES = 48;
  private static final int SIDE = 4;
  private static final int BRIGHT = 200;
  private static final int NOISE = 40;

  @TempDir Path dir;

  private Connection connect() throws SQLException {
    return DriverManager.getConnection("jdbc:dlsql:" + dir);
  }

  /** Class 0 is bright on the left half, class 1 on the right, with noise. */
  private static String rows() {
    Random random = new Random(11);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < IMAGES; i++) {
      int label = i % 2;
      byte[] pixels = new byte[SIDE * SIDE];
      for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
          boolean lit = (x < SIDE / 2) == (label == 0);
          pixels[y * SIDE + x] = (byte) ((lit ? BRIGHT : 0) + random.nextInt(NOISE));
        }
      }
      sb.append(i == 0 ? "" : ", ").append("(").append(i).append(", X'").append(HexFormat.of().formatHex(pixels))
          .append("', ").append(label).append(")");
    }
    return sb.toString();
  }

  private static final List<String> VARIANTS = List.of(
      "COMPRESS MODEL m INTO m_int8 USING QUANTIZE(int8) CALIBRATE ON (SELECT image FROM t LIMIT 16) WITH (measure = false)",
      "COMPRESS MODEL m INTO m_fp16 USING FP16 WITH (measure = false)",
      "COMPRESS MODEL m INTO m_bf16 USING BF16",
      "COMPRESS MODEL m INTO m_cb USING CODEBOOK(3) WITH (measure = false)",
      "COMPRESS MODEL m INTO m_csr USING PRUNE(0.6) WITH (measure = false, sparse_kernels = 'all')",
      "COMPRESS MODEL m INTO m_ch USING PRUNE_CHANNELS(0.5) FINETUNE ON t WITH (epochs = 1, threads = 1, measure = false)",
      "COMPRESS MODEL m INTO m_student USING DISTILL(STUDENT s) ON t WITH (epochs = 3, learning_rate = 0.3, threads = 1,"
          + " measure = false)",
      "COMPRESS MODEL m_ch INTO m_ch_int8 USING INT8 CALIBRATE ON t WITH (measure = false)");

  @Test
  void variantsReadBackTheSameAfterReopening() throws SQLException {
    Map<String, List<String>> before;
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id INTEGER, image TENSOR(1, 4, 4) UINT8, label INTEGER)");
      s.execute("INSERT INTO t VALUES " + rows());
      s.execute("CREATE MODEL m (INPUT image TENSOR(1, 4, 4), CONV2D(4, KERNEL 3, PADDING 'same'), BATCHNORM, RELU,"
          + " FLATTEN, DENSE(6), RELU, DENSE(2)) OUTPUT label CLASSES 2");
      s.execute("CREATE MODEL s (INPUT image TENSOR(1, 4, 4), FLATTEN, DENSE(2)) OUTPUT label CLASSES 2");
      s.execute("TRAIN MODEL m ON t WITH (epochs = 6, learning_rate = 0.2, momentum = 0.9, threads = 1, seed = 1)");
      for (String sql : VARIANTS) {
        s.execute(sql);
      }
      before = snapshot(s);
    }
    try (Connection c = connect(); Statement s = c.createStatement()) {
      Map<String, List<String>> after = snapshot(s);
      assertEquals(before.keySet(), after.keySet());
      before.forEach((name, rows) -> assertEquals(rows, after.get(name), name));
      // Every variant still evaluates, and classifies this easy set perfectly as m does.
      for (String name : before.keySet()) {
        if (name.startsWith("predict ")) {
          String model = name.substring("predict ".length());
          assertTrue(s.execute("EVALUATE MODEL " + model + " ON t"));
          try (ResultSet rs = s.getResultSet()) {
            assertTrue(rs.next());
            assertEquals(1.0, rs.getDouble("accuracy"), 1e-12, model);
          }
        }
      }
    }
  }

  /** Each model's sys.models row, and for each trained model its predictions in id order. */
  private static Map<String, List<String>> snapshot(Statement s) throws SQLException {
    Map<String, List<String>> out = new LinkedHashMap<>();
    List<String> trained = new ArrayList<>();
    try (ResultSet rs = s.executeQuery("SELECT name, kind, status, parent, parameters, size_bytes, epochs_trained,"
        + " latency_ms, throughput, statement, properties FROM sys.models ORDER BY name")) {
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int c = 1; c <= 11; c++) {
          row.add(String.valueOf(rs.getObject(c)));
        }
        out.put(rs.getString(1), row);
        if (rs.getString("status").equals("TRAINED")) {
          trained.add(rs.getString(1));
        }
      }
    }
    assertEquals(VARIANTS.size() + 2, out.size());
    assertNotNull(out.get("m_bf16").get(7), "measured by default");
    assertTrue(Double.parseDouble(out.get("m_bf16").get(7)) > 0, "latency of m_bf16");
    assertTrue(Double.parseDouble(out.get("m").get(8)) > 0, "throughput of m, measured with its first variant");
    for (String model : trained) {
      List<String> predictions = new ArrayList<>();
      try (ResultSet rs = s.executeQuery(
          "SELECT id, predicted_label, confidence FROM PREDICT(MODEL " + model + ", TABLE t) ORDER BY id")) {
        while (rs.next()) {
          predictions.add(rs.getInt(1) + ":" + rs.getInt(2) + ":" + rs.getDouble(3));
        }
      }
      assertEquals(IMAGES, predictions.size());
      out.put("predict " + model, predictions);
    }
    return out;
  }
}
