package io.dlsql.jdbc;

import io.dlsql.catalog.ModelInfo;
import io.dlsql.catalog.TensorType;
import io.dlsql.catalog.UserException;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlCharStringLiteral;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * The table function {@code TABLE(pareto([rows,] 'objective', ... [, lineage => 'model']))}: the
 * rows no other row dominates under the objectives (see {@link Pareto}). Without {@code rows} it
 * reads {@code sys.models}; {@code rows} is {@code TABLE t}, {@code (query)} or {@code
 * CURSOR(query)}, so any rows with metric columns can be ranked. {@code lineage => 'm'} keeps
 * model {@code m} and every model derived from it (rows with {@code name} and {@code parent}
 * columns). Rows missing (NULL) any chosen objective are left out before the frontier is taken.
 * The result has the rows' columns, in their order.
 */
final class ParetoFunction {
  static final String NAME = "pareto";
  static final String LINEAGE = "lineage";
  private static final String NAME_COLUMN = "name";
  private static final String PARENT_COLUMN = "parent";
  private static final String USAGE = "pareto([TABLE t | (query) | CURSOR(query),] 'objective' [MIN|MAX], ..."
      + " [, lineage => 'model'])";

  /** The frontier rows and which of their columns hold tensors. */
  record Result(ResultRows rows, Map<String, TensorType> tensorColumns) {}

  private ParetoFunction() {}

  /** Whether {@code call} is {@code TABLE(pareto(...))}. */
  static boolean matches(SqlCall call) {
    return call.getKind() == SqlKind.COLLECTION_TABLE && call.operandCount() == 1
        && call.operand(0) instanceof SqlBasicCall function
        && function.getOperator().getName().equalsIgnoreCase(NAME);
  }

  static Result run(SqlBasicCall function, Session session, Execution execution) throws SQLException {
    SqlNode source = null;
    List<Pareto.Objective> objectives = new ArrayList<>();
    String lineage = null;
    List<SqlNode> operands = function.getOperandList();
    for (int i = 0; i < operands.size(); i++) {
      SqlNode operand = operands.get(i);
      if (operand.getKind() == SqlKind.ARGUMENT_ASSIGNMENT) {
        SqlCall assignment = (SqlCall) operand;
        String name = ((SqlIdentifier) assignment.operand(1)).getSimple().toLowerCase(Locale.ROOT);
        if (!name.equals(LINEAGE) || !(assignment.operand(0) instanceof SqlCharStringLiteral model)) {
          throw new UserException("pareto: the only named argument is lineage => 'model'; got " + name + " => "
              + assignment.operand(0));
        }
        lineage = model.getValueAs(String.class).toLowerCase(Locale.ROOT);
      } else if (operand instanceof SqlCharStringLiteral text) {
        objectives.add(Pareto.Objective.parse(text.getValueAs(String.class)));
      } else if (i == 0 && rowsQuery(operand) != null) {
        source = rowsQuery(operand);
      } else {
        throw new UserException("pareto: unexpected argument " + operand + "; usage: " + USAGE);
      }
    }
    if (objectives.isEmpty()) {
      throw new UserException("pareto needs at least one objective; usage: " + USAGE);
    }
    Rows rows = source == null ? models(session) : query(session, source, execution);
    List<Object[]> candidates = lineage == null ? rows.values() : lineage(rows, lineage, source == null);
    int[] columns = new int[objectives.size()];
    List<Pareto.Direction> directions = new ArrayList<>();
    for (int k = 0; k < objectives.size(); k++) {
      columns[k] = rows.indexOf(objectives.get(k).column());
      directions.add(objectives.get(k).direction());
    }
    List<Object[]> complete = new ArrayList<>();
    List<double[]> points = new ArrayList<>();
    for (Object[] row : candidates) {
      double[] point = new double[columns.length];
      boolean missing = false;
      for (int k = 0; k < columns.length && !missing; k++) {
        Object v = row[columns[k]];
        if (v == null || v instanceof Double d && d.isNaN() || v instanceof Float f && f.isNaN()) {
          missing = true;
        } else if (v instanceof Number n) {
          point[k] = n.doubleValue();
        } else {
          throw new UserException("pareto: objective column '" + objectives.get(k).column() + "' must be numeric, got '"
              + v + "'");
        }
      }
      if (!missing) {
        complete.add(row);
        points.add(point);
      }
    }
    List<Object[]> frontier = new ArrayList<>();
    for (int i : Pareto.frontier(points, directions)) {
      frontier.add(complete.get(i));
    }
    return new Result(new ResultRows(rows.columns(), frontier), rows.tensorColumns());
  }

  /** The query a table argument stands for, or null if {@code operand} is not one. */
  private static SqlNode rowsQuery(SqlNode operand) {
    if (operand.getKind() == SqlKind.EXPLICIT_TABLE || operand.getKind() == SqlKind.CURSOR) {
      SqlNode inner = ((SqlCall) operand).operand(0);
      if (inner instanceof SqlIdentifier table) {
        try {
          return Session.parse("SELECT * FROM " + Session.unparse(table));
        } catch (SQLException e) {
          throw new IllegalStateException("unparsed table name does not parse: " + table, e);
        }
      }
      return inner;
    }
    return operand.getKind().belongsTo(SqlKind.QUERY) ? operand : null;
  }

  /** Rows with their columns, in Calcite's internal values. */
  private record Rows(List<ResultRows.Column> columns, List<Object[]> values, Map<String, TensorType> tensorColumns) {
    int indexOf(String column) {
      for (int c = 0; c < columns.size(); c++) {
        if (columns.get(c).name().equalsIgnoreCase(column)) {
          return c;
        }
      }
      throw new UserException("pareto: the rows have no column '" + column + "'; their columns are "
          + columns.stream().map(ResultRows.Column::name).toList());
    }
  }

  private static Rows models(Session session) {
    List<Object[]> values = new ArrayList<>();
    for (ModelInfo m : session.catalog().models()) {
      values.add(SystemSchema.modelRow(m));
    }
    return new Rows(SystemSchema.modelsColumns(), values, Map.of());
  }

  private static Rows query(Session session, SqlNode query, Execution execution) throws SQLException {
    try (Session.QueryRun run = session.openQuery(query, execution)) {
      ResultSet rs = run.resultSet();
      ResultSetMetaData md = rs.getMetaData();
      int count = md.getColumnCount();
      List<ResultRows.Column> columns = new ArrayList<>();
      boolean[] decimal = new boolean[count];
      Map<String, TensorType> tensors = new LinkedHashMap<>();
      for (int c = 0; c < count; c++) {
        SqlTypeName type = SqlTypeName.getNameForJdbcType(md.getColumnType(c + 1));
        // Exact decimals and fixed-width strings would need their precision and length carried
        // along; as DOUBLE and VARCHAR the values read the same.
        if (type == SqlTypeName.DECIMAL) {
          type = SqlTypeName.DOUBLE;
          decimal[c] = true;
        } else if (type == SqlTypeName.CHAR) {
          type = SqlTypeName.VARCHAR;
        } else if (type == null) {
          type = SqlTypeName.ANY;
        }
        String name = run.columnNames().get(c);
        columns.add(new ResultRows.Column(name, type, true));
        if (run.tensorType(c) != null) {
          tensors.put(name, run.tensorType(c));
        }
      }
      List<Object[]> values = new ArrayList<>();
      while (rs.next()) {
        Object[] row = new Object[count];
        for (int c = 0; c < count; c++) {
          Object v = rs.getObject(c + 1);
          row[c] = decimal[c] && v instanceof BigDecimal d ? (Object) d.doubleValue() : CalciteValues.toInternal(v);
        }
        values.add(row);
        execution.checkCancelled();
      }
      return new Rows(List.copyOf(columns), values, tensors);
    }
  }

  /** The rows of model {@code root} and of every model derived from it, directly or not. */
  private static List<Object[]> lineage(Rows rows, String root, boolean catalog) {
    int name = rows.indexOf(NAME_COLUMN);
    int parent = rows.indexOf(PARENT_COLUMN);
    Set<String> members = new HashSet<>();
    for (Object[] row : rows.values()) {
      if (root.equalsIgnoreCase(String.valueOf(row[name]))) {
        members.add(root);
      }
    }
    if (members.isEmpty()) {
      throw new UserException(catalog ? "pareto: lineage model '" + root + "' does not exist"
          : "pareto: lineage model '" + root + "' is not among the rows");
    }
    // Grow the set until no row's parent joins it: variants of variants are found in any order.
    boolean grew = true;
    while (grew) {
      grew = false;
      for (Object[] row : rows.values()) {
        String n = String.valueOf(row[name]).toLowerCase(Locale.ROOT);
        if (row[parent] != null && members.contains(String.valueOf(row[parent]).toLowerCase(Locale.ROOT))) {
          grew |= members.add(n);
        }
      }
    }
    List<Object[]> out = new ArrayList<>();
    for (Object[] row : rows.values()) {
      if (members.contains(String.valueOf(row[name]).toLowerCase(Locale.ROOT))) {
        out.add(row);
      }
    }
    return out;
  }
}
