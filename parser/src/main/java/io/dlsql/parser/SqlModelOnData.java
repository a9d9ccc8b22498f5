package io.dlsql.parser;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * A statement that runs a model over data: {@code <VERB> MODEL m ON (query) | ON t [WITH
 * (options)]}. The data is a parenthesised query or a table name.
 */
public abstract sealed class SqlModelOnData extends SqlCall
    permits SqlTrainModel, SqlEvaluateModel {
  private final SqlIdentifier model;
  private final SqlNode source;
  private final SqlNodeList options;

  SqlModelOnData(SqlParserPos pos, SqlIdentifier model, SqlNode source, SqlNodeList options) {
    super(pos);
    this.model = model;
    this.source = source;
    this.options = options == null ? SqlNodeList.EMPTY : options;
  }

  /** The statement's leading keyword, TRAIN or EVALUATE. */
  abstract String verb();

  public SqlIdentifier model() {
    return model;
  }

  /** The data as written: a query, or a {@link SqlIdentifier} naming a table. */
  public SqlNode source() {
    return source;
  }

  /** The table, when the data was given as {@code ON t}. */
  public Optional<SqlIdentifier> sourceTable() {
    return source instanceof SqlIdentifier table ? Optional.of(table) : Optional.empty();
  }

  /** The data as a query; {@code ON t} reads as {@code SELECT * FROM t}. */
  public SqlNode query() {
    return Unparsing.sourceQuery(source);
  }

  /** WITH options by lower-case key; empty without WITH. */
  public Map<String, Object> options() {
    return SqlOption.toMap(options);
  }

  /** WITH options as nodes, for their positions. */
  public List<SqlOption> optionList() {
    return SqlOption.list(options);
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(model, source, options);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword(verb());
    writer.keyword("MODEL");
    model.unparse(writer, 0, 0);
    writer.keyword("ON");
    Unparsing.source(writer, source, false);
    Unparsing.options(writer, options);
  }
}
