package io.losswatch.web;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.SpecException;
import java.util.LinkedHashMap;
import java.util.Map;

/** A request's {@code base} RunSpec, as the range test and sweeps derive their runs' specs from it. */
final class BaseSpec {
  /**
   * The lrs a sweep or a range test may try: wide enough for any optimizer's useful range, narrow enough that a
   * ramp or a grid between two of them stays finite and positive at every step.
   */
  static final double MIN_LR = 1e-12;
  static final double MAX_LR = 1e6;
  static final String LR_BOUNDS = "must be an lr in [1e-12, 1e6]";

  private BaseSpec() {
  }

  /** Whether {@code v} is within {@link #MIN_LR} and {@link #MAX_LR}. */
  static boolean lr(double v) {
    return v >= MIN_LR && v <= MAX_LR;
  }

  /** A copy of {@code base} (as JSON) with the optimizer's lr set to {@code lr}. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> withLr(Map<String, Object> base, double lr) {
    Map<String, Object> spec = new LinkedHashMap<>(base);
    Map<String, Object> optimizer = spec.get("optimizer") instanceof Map<?, ?> m
        ? new LinkedHashMap<>((Map<String, Object>) m) : new LinkedHashMap<>();
    optimizer.put("lr", lr);
    spec.put("optimizer", optimizer);
    return spec;
  }

  /** The spec, its errors naming their field under {@code base}. */
  static RunSpec parse(Map<String, Object> spec) {
    try {
      return RunSpec.from(spec);
    } catch (SpecException e) {
      throw new SpecException("base" + (e.field().isEmpty() ? "" : "." + e.field()), e.reason());
    }
  }
}
