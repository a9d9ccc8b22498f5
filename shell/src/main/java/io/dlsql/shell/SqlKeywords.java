package io.dlsql.shell;

import java.util.List;

/** The keywords completion offers: standard SQL plus dlsql's statements and layer names. */
final class SqlKeywords {
  private SqlKeywords() {}

  static final List<String> SQL =
      List.of(
          "ALL", "ALTER", "AND", "ANY", "AS", "ASC", "AVG", "BETWEEN", "BIGINT", "BOOLEAN", "BY",
          "CASE", "CAST", "COALESCE", "COUNT", "CREATE", "CROSS", "CURRENT_DATE",
          "CURRENT_TIMESTAMP", "DATE", "DECIMAL", "DELETE", "DESC", "DISTINCT", "DOUBLE", "DROP",
          "ELSE", "END", "EXCEPT", "EXISTS", "EXPLAIN", "FALSE", "FETCH", "FIRST", "FLOAT",
          "FROM", "FULL", "GROUP", "HAVING", "IF", "IN", "INNER", "INSERT", "INTEGER",
          "INTERSECT", "INTO", "IS", "JOIN", "LATERAL", "LEFT", "LIKE", "LIMIT", "MAX", "MIN",
          "NATURAL", "NEXT", "NOT", "NULL", "OFFSET", "ON", "ONLY", "OR", "ORDER", "OUTER",
          "OVER", "PARTITION", "PLAN", "RIGHT", "ROW", "ROWS", "SCHEMA", "SELECT", "SET", "SUM",
          "TABLE", "THEN", "TIMESTAMP", "TRUE", "UNION", "UNNEST", "UPDATE", "USING", "VALUES",
          "VARCHAR", "VIEW", "WHEN", "WHERE", "WITH");

  static final List<String> DLSQL =
      List.of(
          "ANALYZE", "AVGPOOL", "BATCHNORM", "CALIBRATE", "CLASSES", "COMPRESS", "CONV2D",
          "DENSE", "DESCRIBE", "DISTILL", "DROPOUT", "EVALUATE", "FINETUNE", "FLATTEN", "INPUT",
          "KERNEL", "MAXPOOL", "METHOD", "MODEL", "MODELS", "OUTPUT", "PADDING", "PREDICT",
          "PRUNE", "QUANTIZE", "RELU", "RESNET", "SCOPE", "SHOW", "SIGMOID", "SOFTMAX", "STRIDE",
          "STUDENT", "TANH", "TENSOR", "TRAIN");

  /** Shell commands, completed when a word starts with a backslash. */
  static final List<String> COMMANDS = List.of("\\d", "\\help", "\\q", "\\timing");
}
