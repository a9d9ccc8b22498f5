package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * A name with an optional argument list that the engine interprets: a built-in architecture
 * ({@code RESNET(depth => 20)}) or a compression method ({@code PRUNE(0.8, METHOD 'l1')}).
 */
public abstract sealed class SqlNamedInvocation extends SqlCall
    permits SqlArchitecture, SqlCompressionMethod {
  private final SqlIdentifier name;
  private final SqlNodeList args;

  /** {@code args} is null when no parentheses were written. */
  SqlNamedInvocation(SqlParserPos pos, SqlIdentifier name, SqlNodeList args) {
    super(pos);
    this.name = name;
    this.args = args;
  }

  /** The name in upper case, e.g. {@code RESNET} or {@code QUANTIZE}. */
  public String name() {
    return Unparsing.upper(name.getSimple());
  }

  /** Where the name was written, for "unknown architecture/method" errors. */
  public SqlIdentifier nameIdentifier() {
    return name;
  }

  public Arguments arguments() {
    return args == null ? Arguments.NONE : Arguments.of(args);
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(name, args);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    Unparsing.word(writer, name.getSimple());
    if (args != null) {
      Unparsing.arguments(writer, args);
    }
  }
}
