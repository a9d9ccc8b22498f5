package io.dlsql.executor.graph;

import io.dlsql.catalog.UserException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The closed set of logical operators a network is made of. Each has the name used in {@link
 * NetworkSpec} nodes ({@link #specName()}) and the keyword used in SQL layer lists ({@link
 * #sqlName()}); physical choices (convolution algorithm, layout) are not operators.
 */
public enum Op {
  CONV2D("conv2d", "CONV2D", 1, 1),
  BATCHNORM2D("batchnorm2d", "BATCHNORM", 1, 1),
  RELU("relu", "RELU", 1, 1),
  LEAKY_RELU("leaky_relu", "LEAKYRELU", 1, 1),
  SIGMOID("sigmoid", "SIGMOID", 1, 1),
  TANH("tanh", "TANH", 1, 1),
  MAXPOOL2D("maxpool2d", "MAXPOOL", 1, 1),
  AVGPOOL2D("avgpool2d", "AVGPOOL", 1, 1),
  GLOBAL_AVGPOOL("global_avgpool", "GLOBALAVGPOOL", 1, 1),
  DENSE("dense", "DENSE", 1, 1),
  DROPOUT("dropout", "DROPOUT", 1, 1),
  FLATTEN("flatten", "FLATTEN", 1, 1),
  ADD("add", "ADD", 2, Integer.MAX_VALUE),
  CONCAT("concat", "CONCAT", 2, Integer.MAX_VALUE);

  private final String specName;
  private final String sqlName;
  private final int minInputs;
  private final int maxInputs;

  Op(String specName, String sqlName, int minInputs, int maxInputs) {
    this.specName = specName;
    this.sqlName = sqlName;
    this.minInputs = minInputs;
    this.maxInputs = maxInputs;
  }

  public String specName() {
    return specName;
  }

  public String sqlName() {
    return sqlName;
  }

  public int minInputs() {
    return minInputs;
  }

  public int maxInputs() {
    return maxInputs;
  }

  /** The operator with this spec name or SQL keyword, case-insensitive. */
  public static Op parse(String name) {
    String upper = name.toUpperCase(Locale.ROOT);
    for (Op op : values()) {
      if (op.sqlName.equals(upper) || op.specName.equalsIgnoreCase(name) || op.name().equals(upper)) {
        return op;
      }
    }
    throw new UserException("unknown layer " + name + "; known layers: " + knownSqlNames());
  }

  /** The SQL keywords of all layers, comma separated, for error messages. */
  public static String knownSqlNames() {
    return Arrays.stream(values()).map(Op::sqlName).collect(Collectors.joining(", "));
  }
}
