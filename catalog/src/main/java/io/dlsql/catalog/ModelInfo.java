package io.dlsql.catalog;

import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the catalog records about one model variant: its definition, lineage (kind, parent,
 * the statement that made it), training state, and measured quality and cost, so that the Pareto
 * frontier of variants is an ordinary query. Nullable figures are null until measured.
 *
 * @param name model name, stored lower case
 * @param definition the CREATE MODEL text (architecture) the model was defined with
 * @param kind how the variant came to be, e.g. "defined", "trained", "quantized", "pruned"
 * @param parent the model this one was derived from, or null
 * @param statement the statement that made this variant
 * @param created when the model was first created
 * @param status DEFINED until weights are saved, then TRAINED (maintained by the catalog)
 * @param inputName name of the input column, e.g. "image"
 * @param inputDims shape of one input row, e.g. {1, 28, 28}
 * @param labelColumn name of the label column, or null
 * @param classes number of output classes
 * @param parameterCount number of trainable parameters (set by whoever saves weights)
 * @param sizeBytes size of the weights file on disk (maintained by the catalog)
 * @param epochsTrained epochs completed over all training runs
 * @param lastTrainLoss training loss after the last epoch, or null
 * @param accuracy accuracy from the last evaluation, or null
 * @param loss loss from the last evaluation, or null
 * @param latencyMs measured latency of one image at batch 1, or null
 * @param throughput measured images per second at batch 256, or null
 * @param peakMemoryBytes measured peak memory, or null
 * @param properties further facts (precision, sparsity, compression options, ...)
 */
public record ModelInfo(
    String name,
    String definition,
    String kind,
    String parent,
    String statement,
    Instant created,
    ModelStatus status,
    String inputName,
    int[] inputDims,
    String labelColumn,
    int classes,
    long parameterCount,
    long sizeBytes,
    int epochsTrained,
    Double lastTrainLoss,
    Double accuracy,
    Double loss,
    Double latencyMs,
    Double throughput,
    Long peakMemoryBytes,
    Map<String, String> properties) {

  /** The kind of a model that has only been defined. */
  public static final String KIND_DEFINED = "defined";

  public ModelInfo {
    if (name == null || name.isBlank()) {
      throw new UserException("a model needs a non-empty name");
    }
    name = name.toLowerCase(Locale.ROOT);
    parent = parent == null ? null : parent.toLowerCase(Locale.ROOT);
    definition = Objects.requireNonNullElse(definition, "");
    kind = Objects.requireNonNullElse(kind, KIND_DEFINED);
    statement = Objects.requireNonNullElse(statement, "");
    created = Objects.requireNonNullElseGet(created, Instant::now);
    status = Objects.requireNonNullElse(status, ModelStatus.DEFINED);
    inputDims = inputDims == null ? new int[0] : inputDims.clone();
    properties = Map.copyOf(Objects.requireNonNullElse(properties, Map.of()));
  }

  /** A builder for a new model of that name; unset fields take their defaults. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** A builder starting from this model's values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  @Override
  public int[] inputDims() {
    return inputDims.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelInfo m
        && name.equals(m.name)
        && definition.equals(m.definition)
        && kind.equals(m.kind)
        && Objects.equals(parent, m.parent)
        && statement.equals(m.statement)
        && created.equals(m.created)
        && status == m.status
        && Objects.equals(inputName, m.inputName)
        && Arrays.equals(inputDims, m.inputDims)
        && Objects.equals(labelColumn, m.labelColumn)
        && classes == m.classes
        && parameterCount == m.parameterCount
        && sizeBytes == m.sizeBytes
        && epochsTrained == m.epochsTrained
        && Objects.equals(lastTrainLoss, m.lastTrainLoss)
        && Objects.equals(accuracy, m.accuracy)
        && Objects.equals(loss, m.loss)
        && Objects.equals(latencyMs, m.latencyMs)
        && Objects.equals(throughput, m.throughput)
        && Objects.equals(peakMemoryBytes, m.peakMemoryBytes)
        && properties.equals(m.properties);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, kind, parent, created, status, classes, Arrays.hashCode(inputDims));
  }

  @Override
  public String toString() {
    return "ModelInfo["
        + name
        + ", kind="
        + kind
        + ", status="
        + status
        + ", input="
        + inputName
        + Arrays.toString(inputDims)
        + ", classes="
        + classes
        + ", parent="
        + parent
        + "]";
  }

  /** Mutable builder for {@link ModelInfo}; every setter returns the builder. */
  public static final class Builder {
    private String name;
    private String definition;
    private String kind;
    private String parent;
    private String statement;
    private Instant created;
    private ModelStatus status;
    private String inputName;
    private int[] inputDims;
    private String labelColumn;
    private int classes;
    private long parameterCount;
    private long sizeBytes;
    private int epochsTrained;
    private Double lastTrainLoss;
    private Double accuracy;
    private Double loss;
    private Double latencyMs;
    private Double throughput;
    private Long peakMemoryBytes;
    private Map<String, String> properties = new LinkedHashMap<>();

    private Builder(String name) {
      this.name = name;
    }

    private Builder(ModelInfo m) {
      name = m.name;
      definition = m.definition;
      kind = m.kind;
      parent = m.parent;
      statement = m.statement;
      created = m.created;
      status = m.status;
      inputName = m.inputName;
      inputDims = m.inputDims;
      labelColumn = m.labelColumn;
      classes = m.classes;
      parameterCount = m.parameterCount;
      sizeBytes = m.sizeBytes;
      epochsTrained = m.epochsTrained;
      lastTrainLoss = m.lastTrainLoss;
      accuracy = m.accuracy;
      loss = m.loss;
      latencyMs = m.latencyMs;
      throughput = m.throughput;
      peakMemoryBytes = m.peakMemoryBytes;
      properties = new LinkedHashMap<>(m.properties);
    }

    public Builder name(String v) {
      name = v;
      return this;
    }

    public Builder definition(String v) {
      definition = v;
      return this;
    }

    public Builder kind(String v) {
      kind = v;
      return this;
    }

    public Builder parent(String v) {
      parent = v;
      return this;
    }

    public Builder statement(String v) {
      statement = v;
      return this;
    }

    public Builder created(Instant v) {
      created = v;
      return this;
    }

    public Builder status(ModelStatus v) {
      status = v;
      return this;
    }

    public Builder inputName(String v) {
      inputName = v;
      return this;
    }

    public Builder inputDims(int... v) {
      inputDims = v;
      return this;
    }

    public Builder labelColumn(String v) {
      labelColumn = v;
      return this;
    }

    public Builder classes(int v) {
      classes = v;
      return this;
    }

    public Builder parameterCount(long v) {
      parameterCount = v;
      return this;
    }

    public Builder sizeBytes(long v) {
      sizeBytes = v;
      return this;
    }

    public Builder epochsTrained(int v) {
      epochsTrained = v;
      return this;
    }

    public Builder lastTrainLoss(Double v) {
      lastTrainLoss = v;
      return this;
    }

    public Builder accuracy(Double v) {
      accuracy = v;
      return this;
    }

    public Builder loss(Double v) {
      loss = v;
      return this;
    }

    public Builder latencyMs(Double v) {
      latencyMs = v;
      return this;
    }

    public Builder throughput(Double v) {
      throughput = v;
      return this;
    }

    public Builder peakMemoryBytes(Long v) {
      peakMemoryBytes = v;
      return this;
    }

    public Builder properties(Map<String, String> v) {
      properties = new LinkedHashMap<>(v);
      return this;
    }

    public Builder property(String key, String value) {
      properties.put(key, value);
      return this;
    }

    public ModelInfo build() {
      return new ModelInfo(
          name,
          definition,
          kind,
          parent,
          statement,
          created,
          status,
          inputName,
          inputDims,
          labelColumn,
          classes,
          parameterCount,
          sizeBytes,
          epochsTrained,
          lastTrainLoss,
          accuracy,
          loss,
          latencyMs,
          throughput,
          peakMemoryBytes,
          properties);
    }
  }
}
