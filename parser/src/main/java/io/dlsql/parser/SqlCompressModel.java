package io.dlsql.parser;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * {@code COMPRESS MODEL m INTO m2 USING method(args) [CALIBRATE ON data] [FINETUNE ON data] [ON
 * data] [WITH (options)]}: makes a smaller variant of a model. Which clauses a method needs
 * (CALIBRATE for QUANTIZE, FINETUNE for PRUNE, ON for DISTILL) is checked by the engine; each
 * data clause is a parenthesised query or a table name.
 */
public final class SqlCompressModel extends SqlCall {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "COMPRESS MODEL",
          SqlKind.OTHER,
          (pos, operands) ->
              new SqlCompressModel(
                  pos,
                  (SqlIdentifier) operands.get(0),
                  (SqlIdentifier) operands.get(1),
                  (SqlCompressionMethod) operands.get(2),
                  operands.get(3),
                  operands.get(4),
                  operands.get(5),
                  (SqlNodeList) operands.get(6)));

  private final SqlIdentifier model;
  private final SqlIdentifier target;
  private final SqlCompressionMethod method;
  private final SqlNode calibration;
  private final SqlNode finetuning;
  private final SqlNode training;
  private final SqlNodeList options;

  /** The three data sources and {@code options} may each be null. */
  public SqlCompressModel(
      SqlParserPos pos,
      SqlIdentifier model,
      SqlIdentifier target,
      SqlCompressionMethod method,
      SqlNode calibration,
      SqlNode finetuning,
      SqlNode training,
      SqlNodeList options) {
    super(pos);
    this.model = model;
    this.target = target;
    this.method = method;
    this.calibration = calibration;
    this.finetuning = finetuning;
    this.training = training;
    this.options = options == null ? SqlNodeList.EMPTY : options;
  }

  /** The model to compress. */
  public SqlIdentifier model() {
    return model;
  }

  /** The new model, after INTO. */
  public SqlIdentifier target() {
    return target;
  }

  public SqlCompressionMethod method() {
    return method;
  }

  /** Rows for quantization ranges, {@code CALIBRATE ON ...}, as a query. */
  public Optional<SqlNode> calibrationQuery() {
    return Optional.ofNullable(calibration).map(Unparsing::sourceQuery);
  }

  /** Rows to fine-tune on after pruning, {@code FINETUNE ON ...}, as a query. */
  public Optional<SqlNode> finetuneQuery() {
    return Optional.ofNullable(finetuning).map(Unparsing::sourceQuery);
  }

  /** Rows to train a student on (distillation), the plain {@code ON ...}, as a query. */
  public Optional<SqlNode> trainingQuery() {
    return Optional.ofNullable(training).map(Unparsing::sourceQuery);
  }

  /** WITH options by lower-case key; empty without WITH. */
  public Map<String, Object> options() {
    return SqlOption.toMap(options);
  }

  public List<SqlOption> optionList() {
    return SqlOption.list(options);
  }

  @Override
  public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(
        model, target, method, calibration, finetuning, training, options);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("COMPRESS MODEL");
    model.unparse(writer, 0, 0);
    writer.keyword("INTO");
    target.unparse(writer, 0, 0);
    writer.keyword("USING");
    method.unparse(writer, 0, 0);
    if (calibration != null) {
      writer.keyword("CALIBRATE ON");
      Unparsing.source(writer, calibration, false);
    }
    if (finetuning != null) {
      writer.keyword("FINETUNE ON");
      Unparsing.source(writer, finetuning, false);
    }
    if (training != null) {
      writer.keyword("ON");
      Unparsing.source(writer, training, false);
    }
    Unparsing.options(writer, options);
  }
}
