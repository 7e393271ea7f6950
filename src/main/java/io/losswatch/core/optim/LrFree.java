package io.losswatch.core.optim;

import io.losswatch.core.config.Options;

/** What the learning-rate-free optimizers share: their authors' Python {@code max}/{@code min}, and growth_rate. */
final class LrFree {
  private LrFree() {
  }

  /** Python's {@code max(a, b)}: {@code a} unless {@code b > a}, so a NaN estimate leaves {@code a} (Math.max gives NaN). */
  static double max(double a, double b) {
    return b > a ? b : a;
  }

  /** Python's {@code min(a, b)}: {@code a} unless {@code b < a}. */
  static double min(double a, double b) {
    return b < a ? b : a;
  }

  /** {@code growth_rate}: how fast d may grow per step, unbounded (the authors' {@code float('inf')}) by default. */
  static double growthRate(Options o) {
    return o.byDefault("inf").number("growth_rate", Double.POSITIVE_INFINITY, v -> v >= 1, "must be >= 1");
  }
}
