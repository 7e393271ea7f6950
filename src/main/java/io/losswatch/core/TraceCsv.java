package io.losswatch.core;

/**
 * The trace CSV: the header {@code step,loss,lr,grad_norm}, then one row per step, each double in
 * {@link Double#toString} form ({@code NaN}, {@code Infinity}, {@code -Infinity} as Java prints them).
 */
public final class TraceCsv {
  public static final String HEADER = "step,loss,lr,grad_norm\n";

  private TraceCsv() {
  }

  public static StringBuilder row(StringBuilder b, long step, double loss, double lr, double gradNorm) {
    return b.append(step).append(',').append(loss).append(',').append(lr).append(',').append(gradNorm).append('\n');
  }
}
