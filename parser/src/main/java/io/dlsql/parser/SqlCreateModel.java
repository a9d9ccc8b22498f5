package io.dlsql.parser;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.apache.calcite.sql.SqlCreate;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlNumericLiteral;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.ImmutableNullableList;

/**
 * {@code CREATE [OR REPLACE] MODEL [IF NOT EXISTS] m} with either a layer list, {@code (INPUT
 * image TENSOR(1, 28, 28), CONV2D(32, KERNEL 5), RELU, ...)}, or a built-in architecture,
 * {@code AS RESNET(depth => 20) [INPUT image TENSOR(...)]...}; then optionally {@code OUTPUT
 * label} (the label column) and {@code CLASSES n}.
 */
public final class SqlCreateModel extends SqlCreate {
  static final SqlOperator OPERATOR =
      new DlsqlOperator(
          "CREATE MODEL",
          SqlKind.OTHER_DDL,
          (pos, operands) ->
              new SqlCreateModel(
                  pos,
                  Unparsing.flag(operands.get(0)),
                  Unparsing.flag(operands.get(1)),
                  (SqlIdentifier) operands.get(2),
                  (SqlNodeList) operands.get(3),
                  (SqlNodeList) operands.get(4),
                  (SqlArchitecture) operands.get(5),
                  (SqlIdentifier) operands.get(6),
                  (SqlNumericLiteral) operands.get(7)));

  private final SqlIdentifier name;
  private final SqlNodeList inputs;
  private final SqlNodeList layers;
  private final SqlArchitecture architecture;
  private final SqlIdentifier output;
  private final SqlNumericLiteral classes;

  /**
   * Exactly one of {@code layers} and {@code architecture} is non-null; {@code output} and
   * {@code classes} may be null.
   */
  public SqlCreateModel(
      SqlParserPos pos,
      boolean replace,
      boolean ifNotExists,
      SqlIdentifier name,
      SqlNodeList inputs,
      SqlNodeList layers,
      SqlArchitecture architecture,
      SqlIdentifier output,
      SqlNumericLiteral classes) {
    super(OPERATOR, pos, replace, ifNotExists);
    if ((layers == null) == (architecture == null)) {
      throw new IllegalStateException("CREATE MODEL needs layers or an architecture, not both");
    }
    this.name = name;
    this.inputs = inputs;
    this.layers = layers;
    this.architecture = architecture;
    this.output = output;
    this.classes = classes;
  }

  public SqlIdentifier name() {
    return name;
  }

  public boolean replace() {
    return getReplace();
  }

  public boolean ifNotExists() {
    return ifNotExists;
  }

  /** The declared inputs, in order (at least one for a layer list; maybe none for AS). */
  public List<SqlModelInput> inputs() {
    return inputs.stream().map(SqlModelInput.class::cast).toList();
  }

  /** The layers in written order; empty for an architecture. */
  public List<SqlLayer> layers() {
    return layers == null ? List.of() : layers.stream().map(SqlLayer.class::cast).toList();
  }

  public Optional<SqlArchitecture> architecture() {
    return Optional.ofNullable(architecture);
  }

  /** The label column named by {@code OUTPUT label}. */
  public Optional<SqlIdentifier> output() {
    return Optional.ofNullable(output);
  }

  /** The class count of {@code CLASSES n}. */
  public OptionalInt classes() {
    return classes == null ? OptionalInt.empty() : OptionalInt.of(classes.intValue(true));
  }

  @Override
  public List<SqlNode> getOperandList() {
    return ImmutableNullableList.of(
        Unparsing.flag(getReplace()),
        Unparsing.flag(ifNotExists),
        name,
        inputs,
        layers,
        architecture,
        output,
        classes);
  }

  @Override
  public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("CREATE");
    if (getReplace()) {
      writer.keyword("OR REPLACE");
    }
    writer.keyword("MODEL");
    if (ifNotExists) {
      writer.keyword("IF NOT EXISTS");
    }
    name.unparse(writer, leftPrec, rightPrec);
    if (layers != null) {
      SqlWriter.Frame frame = writer.startList("(", ")");
      for (SqlNode input : inputs) {
        writer.sep(",");
        input.unparse(writer, 0, 0);
      }
      for (SqlNode layer : layers) {
        writer.sep(",");
        layer.unparse(writer, 0, 0);
      }
      writer.endList(frame);
    } else {
      writer.keyword("AS");
      architecture.unparse(writer, 0, 0);
      for (SqlNode input : inputs) {
        input.unparse(writer, 0, 0);
      }
    }
    if (output != null) {
      writer.keyword("OUTPUT");
      output.unparse(writer, 0, 0);
    }
    if (classes != null) {
      writer.keyword("CLASSES");
      classes.unparse(writer, 0, 0);
    }
  }
}
