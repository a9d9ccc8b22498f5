package io.dlsql.jdbc;

import io.dlsql.catalog.ColumnDef;
import io.dlsql.catalog.DataSource;
import io.dlsql.catalog.RowIterator;
import io.dlsql.catalog.TensorType;
import io.dlsql.catalog.UserException;
import io.dlsql.catalog.source.CsvOptions;
import io.dlsql.catalog.source.CsvReader;
import io.dlsql.catalog.source.IdxReader;
import io.dlsql.parser.SqlPredict;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.util.SqlBasicVisitor;
import org.apache.calcite.sql.util.SqlShuttle;

/**
 * Materializes the table expressions Calcite cannot run itself — {@code PREDICT(MODEL m, ...)},
 * {@code TABLE(read_idx(...))}, {@code TABLE(read_csv(...))}, {@code TABLE(pareto(...))} — into
 * temporary tables of the connection, and rewrites the query to read those instead; the rest of
 * the query (joins, WHERE, GROUP BY) is Calcite's.
 */
final class TableExpressions {
  static final String READ_IDX = "read_idx";
  static final String READ_CSV = "read_csv";

  /** The rewritten tree and the temporary tables it reads (dropped when the query is done). */
  record Rewritten(SqlNode node, List<String> temporaries) {}

  private final Session session;
  private final Execution execution;

  TableExpressions(Session session, Execution execution) {
    this.session = session;
    this.execution = execution;
  }

  Rewritten rewrite(SqlNode node) throws SQLException {
    List<String> temporaries = new ArrayList<>();
    try {
      SqlNode rewritten = node.accept(new Materializer(temporaries));
      return new Rewritten(rewritten, temporaries);
    } catch (WrappedSqlException e) {
      temporaries.forEach(session::dropTemporary);
      throw e.getCause();
    } catch (RuntimeException e) {
      temporaries.forEach(session::dropTemporary);
      throw e;
    }
  }

  /** Whether a tree holds any table expression that {@link #rewrite} would materialize. */
  static boolean containsExtensions(SqlNode node) {
    boolean[] found = {false};
    node.accept(new SqlBasicVisitor<Void>() {
      @Override
      public Void visit(SqlCall call) {
        if (call instanceof SqlPredict || fileReader(call) != null || ParetoFunction.matches(call)) {
          found[0] = true;
          return null;
        }
        return super.visit(call);
      }
    });
    return found[0];
  }

  /** The reader function's name if {@code call} is {@code TABLE(read_idx(...))} or read_csv. */
  static String fileReader(SqlCall call) {
    if (call.getKind() != SqlKind.COLLECTION_TABLE || call.operandCount() != 1) {
      return null;
    }
    if (!(call.operand(0) instanceof SqlBasicCall function)) {
      return null;
    }
    String name = function.getOperator().getName().toLowerCase(Locale.ROOT);
    return name.equals(READ_IDX) || name.equals(READ_CSV) ? name : null;
  }

  private final class Materializer extends SqlShuttle {
    private final List<String> temporaries;

    Materializer(List<String> temporaries) {
      this.temporaries = temporaries;
    }

    @Override
    public SqlNode visit(SqlCall call) {
      try {
        if (call instanceof SqlPredict predict) {
          Inference.Materialized m = new Inference(session).predict(predict, execution);
          return reference(m.rows(), m.tensorColumns(), call.getParserPosition());
        }
        String reader = fileReader(call);
        if (reader != null) {
          SqlBasicCall function = call.operand(0);
          DataSource source = openReader(reader, function);
          return reference(source, call.getParserPosition());
        }
        if (ParetoFunction.matches(call)) {
          ParetoFunction.Result frontier = ParetoFunction.run(call.operand(0), session, execution);
          return reference(frontier.rows(), frontier.tensorColumns(), call.getParserPosition());
        }
      } catch (SQLException e) {
        throw new WrappedSqlException(e);
      }
      return super.visit(call);
    }

    private SqlNode reference(DataSource source, SqlParserPos pos) {
      List<ResultRows.Column> columns = new ArrayList<>();
      Map<String, TensorType> tensors = new LinkedHashMap<>();
      for (ColumnDef c : source.columns()) {
        columns.add(new ResultRows.Column(c.name(), CalciteValues.sqlType(c.type()), c.nullable()));
        if (c.type() instanceof TensorType t) {
          tensors.put(c.name(), t);
        }
      }
      List<Object[]> rows = new ArrayList<>();
      try (RowIterator it = source.rows()) {
        while (it.hasNext()) {
          rows.add(CalciteValues.toInternalRow(it.next()));
          if ((rows.size() & CANCEL_CHECK_MASK) == 0) {
            execution.checkCancelled();
          }
        }
      }
      return reference(new ResultRows(List.copyOf(columns), rows), tensors, pos);
    }

    private SqlNode reference(ResultRows rows, Map<String, TensorType> tensors, SqlParserPos pos) {
      String name = session.registerTemporary(rows, tensors);
      temporaries.add(name);
      return new SqlIdentifier(List.of(Engine.TEMPORARY_SCHEMA, name), pos);
    }
  }

  private static final int CANCEL_CHECK_MASK = 4095;

  private DataSource openReader(String reader, SqlBasicCall function) {
    List<Object> args = new ArrayList<>();
    for (SqlNode operand : function.getOperandList()) {
      args.add(io.dlsql.parser.SqlValues.toJava(operand));
    }
    return switch (reader) {
      case READ_IDX -> {
        if (args.size() != 2 || !(args.get(0) instanceof String) || !(args.get(1) instanceof String)) {
          throw new UserException("read_idx takes two file names: read_idx('images-idx3-ubyte[.gz]', 'labels-idx1-ubyte[.gz]')");
        }
        Path images = session.engine().files().check(Path.of((String) args.get(0)));
        Path labels = session.engine().files().check(Path.of((String) args.get(1)));
        yield IdxReader.read(images, labels);
      }
      case READ_CSV -> {
        if (args.isEmpty() || args.size() > 3 || !(args.get(0) instanceof String)) {
          throw new UserException("read_csv takes a file name, then optionally header (TRUE/FALSE) and a one-character delimiter: read_csv('file.csv', TRUE, ',')");
        }
        boolean header = args.size() < 2 || Boolean.TRUE.equals(args.get(1));
        if (args.size() >= 2 && !(args.get(1) instanceof Boolean)) {
          throw new UserException("read_csv: the second argument (header) must be TRUE or FALSE");
        }
        char delimiter = ',';
        if (args.size() == 3) {
          if (!(args.get(2) instanceof String d) || d.length() != 1) {
            throw new UserException("read_csv: the delimiter must be a one-character string");
          }
          delimiter = d.charAt(0);
        }
        Path file = session.engine().files().check(Path.of((String) args.get(0)));
        yield CsvReader.read(file, new CsvOptions(header, delimiter, CsvOptions.DEFAULT.quote()));
      }
      default -> throw new IllegalStateException("not a file reader: " + reader);
    };
  }

  /** Carries a checked exception out of the shuttle. */
  private static final class WrappedSqlException extends RuntimeException {
    WrappedSqlException(SQLException cause) {
      super(cause);
    }

    @Override
    public synchronized SQLException getCause() {
      return (SQLException) super.getCause();
    }
  }
}
