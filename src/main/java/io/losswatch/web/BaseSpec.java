package io.losswatch.web;

import io.losswatch.core.RunSpec;
import io.losswatch.core.config.SpecException;
import java.util.LinkedHashMap;
import java.util.Map;

/** A request's {@code base} RunSpec, as the range test and sweeps derive their runs' specs from it. */
final class BaseSpec {
  private BaseSpec() {
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
