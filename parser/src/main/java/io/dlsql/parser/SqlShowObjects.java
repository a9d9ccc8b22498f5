package io.dlsql.parser;

import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code SHOW <kind>}: one row per catalog object of a kind; the operator's name is the
 * statement ({@code SHOW TABLES}, {@code SHOW MODELS}).
 */
public abstract sealed class SqlShowObjects extends SqlCall permits SqlShowModels, SqlShowTables {
  SqlShowObjects(SqlParserPos pos) {
    super(pos);
  }

  @Override
  public List<SqlNode> getOperandList() {
    return List.of();
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword(getOperator().getName());
  }
}
