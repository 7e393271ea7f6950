package io.losswatch.core.config;

/**
 * A rejected run description: names the field to blame (a dotted path such as {@code optimizer.lr}) and says
 * why, quoting the value. The message reads {@code optimizer.lr: must be > 0, got -1}.
 */
public final class SpecException extends IllegalArgumentException {
  private final String field;
  private final String reason;

  public SpecException(String field, String reason) {
    super(field == null || field.isEmpty() ? reason : field + ": " + reason);
    this.field = field == null ? "" : field;
    this.reason = reason;
  }

  /** The dotted path of the offending field, or "" when the input as a whole is at fault. */
  public String field() {
    return field;
  }

  /** The message without the field prefix. */
  public String reason() {
    return reason;
  }
}
