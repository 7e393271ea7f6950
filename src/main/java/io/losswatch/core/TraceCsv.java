package io.losswatch.core;

/**
 * The trace CSV: the header {@code step,loss,lr,grad_norm} (with the curvature, {@code ,sharpness,stability}), then
 * one row per step, each double in {@link Double#toString} form ({@code NaN}, {@code Infinity}, {@code -Infinity}
 * as Java prints them; sharpness and stability are NaN on the steps not measured).
 */
public final class TraceCsv {
  public static final String HEADER = "step,loss,lr,grad_norm\n";
  public static final String CURVATURE_HEADER = "step,loss,lr,grad_norm,sharpness,stability\n";

  private TraceCsv() {
  }

  public static StringBuilder row(StringBuilder b, long step, double loss, double lr, double gradNorm) {
    return b.append(step).append(',').append(loss).append(',').append(lr).append(',').append(gradNorm).append('\n');
  }

  public static StringBuilder row(StringBuilder b, long step, double loss, double lr, double gradNorm, double sharpness,
      double stability) {
    return b.append(step).append(',').append(loss).append(',').append(lr).append(',').append(gradNorm).append(',')
        .append(sharpness).append(',').append(stability).append('\n');
  }
}
