package io.losswatch.metrics;

import io.losswatch.core.RunSpec;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;

/**
 * One run's series: gauges {@code losswatch_loss}, {@code losswatch_learning_rate}, {@code losswatch_grad_norm},
 * {@code losswatch_step}, the counter {@code losswatch_steps_total}, labelled name, optimizer, problem, run and
 * schedule; {@code losswatch_run_diagnosis{…, verdict}} and {@code losswatch_run_state{…, state[, reason]}}, 1 for
 * the current verdict and state only; {@code losswatch_run_cycle}, {@code losswatch_run_pace_steps_per_second} and
 * {@code losswatch_run_updated_timestamp_seconds}; {@code losswatch_sharpness} and {@code losswatch_stability}, the
 * last curvature measurement, once the run has one. One thread writes; the scrape reads the volatile fields.
 * {@link RunSeries} writes them out.
 */
final class RunMeters {
  /** The label set, escaped and in Prometheus' order, written once. */
  final String labels;
  /** The spec's steps_per_second: 0 for a run that goes as fast as it can. */
  final double pace;
  volatile double loss = Double.NaN;
  volatile double lr = Double.NaN;
  volatile double gradNorm = Double.NaN;
  /** The last curvature measurement: NaN until there is one (then the run has the two series). */
  volatile double sharpness = Double.NaN;
  volatile double stability = Double.NaN;
  volatile long step;
  volatile long steps;
  volatile Verdict verdict = Verdict.UNKNOWN;
  /** The state's labels, {@code ,state="…"} and {@code ,reason="…"} when there is one: one field, read at once. */
  volatile String stateLabels = stateLabels(RunState.CREATED, null);
  volatile int cycle;
  /** When the run last stepped or changed state, epoch milliseconds. */
  volatile long updatedMs;
  /** An external run's extra scalars at its latest step that had each: name's label text → value. */
  volatile java.util.Map<String, Double> metrics = java.util.Map.of();
  /** {@code ,sweep="…"} for a run of a sweep, else null. */
  final String sweep;
  /**
   * {@code losswatch_run_info}'s labels after the run's own: its lr, its tags and up to {@link #INFO_CONFIG} of its
   * config's values (a table of runs with their configs in Grafana). One series a run, its label values cut to
   * {@link #INFO_VALUE} characters: bounded as the runs are (--max-metric-runs). A PATCH of the tags replaces it.
   */
  volatile String info;
  private Object infoOf;   // the spec JSON the info was written from
  /** Config values a run's info carries at most, and characters of each value. */
  static final int INFO_CONFIG = 8;
  static final int INFO_VALUE = 64;

  RunMeters(String run, RunSpec spec) {
    StringBuilder b = new StringBuilder(160);
    label(b.append('{'), "name", spec.name()).append(',');
    label(b, "optimizer", spec.optimizerType()).append(',');
    label(b, "problem", spec.problemType()).append(',');
    label(b, "run", run).append(',');
    label(b, "schedule", spec.scheduleType());
    labels = b.toString();   // left open: the diagnosis adds its verdict, the state its state
    pace = spec.stepsPerSecond();
    sweep = spec.sweep() == null ? null : label(new StringBuilder(","), "sweep", spec.sweep()).toString();
    describe(spec);
  }

  /** The info labels from the spec (its lr, tags, config): written again only when the spec changed (tags, notes). */
  private void describe(RunSpec spec) {
    if (spec.json() == infoOf) return;
    infoOf = spec.json();
    StringBuilder b = new StringBuilder(160);
    label(b.append(','), "lr", Double.isNaN(spec.lr()) ? "" : io.losswatch.core.config.Json.format(spec.lr()));
    label(b.append(','), "tags", cut(String.join(",", spec.tags()), 4 * INFO_VALUE));
    java.util.Map<String, String> config = new java.util.LinkedHashMap<>();
    Object c = spec.external() ? spec.json().get("config") : spec.json();
    flatten("", c, config);
    java.util.Set<String> names = new java.util.HashSet<>();
    for (var e : config.entrySet()) {
      if (names.size() == INFO_CONFIG) break;
      String name = "config_" + e.getKey().replaceAll("[^A-Za-z0-9_]", "_");
      if (names.add(name)) label(b.append(','), name, cut(e.getValue(), INFO_VALUE));
    }
    info = b.toString();
  }

  /** The keys of a built-in spec that are labels already, or no config. */
  private static final java.util.Set<String> NOT_CONFIG = java.util.Set.of("name", "source", "sweep", "tags", "notes", "problem",
      "problem.type", "optimizer.type", "optimizer.lr", "schedule.type");

  /** The scalars of a config by dotted path, in order; lists as their JSON text. */
  private static void flatten(String prefix, Object v, java.util.Map<String, String> out) {
    if (v instanceof java.util.Map<?, ?> m) {
      for (var e : m.entrySet()) flatten(prefix.isEmpty() ? String.valueOf(e.getKey()) : prefix + "." + e.getKey(), e.getValue(), out);
    } else if (!prefix.isEmpty() && v != null && !NOT_CONFIG.contains(prefix)) {
      out.put(prefix, v instanceof Double d ? io.losswatch.core.config.Json.format(d)
          : v instanceof java.util.List<?> ? io.losswatch.core.config.Json.write(v) : String.valueOf(v));
    }
  }

  private static String cut(String s, int max) {
    return s.codePointCount(0, s.length()) <= max ? s : s.substring(0, s.offsetByCodePoints(0, max - 1)) + "…";
  }

  void update(StepBatch b) {
    int last = b.size() - 1;
    loss = b.loss()[last];
    lr = b.lr()[last];
    gradNorm = b.gradNorm()[last];
    step = b.step()[last];
    steps += b.size();   // one writer: the metrics verticle
    updatedMs = Math.max(updatedMs, b.t()[last]);
    int measured = b.lastMeasured();
    if (measured >= 0) {
      sharpness = b.sharpness()[measured];
      stability = b.stability()[measured];
    }
    if (!b.metrics().isEmpty()) {
      java.util.Map<String, Double> m = new java.util.TreeMap<>(metrics);
      for (var e : b.metrics().entrySet()) {
        String label = label(new StringBuilder(32).append(','), "metric", e.getKey()).toString();
        for (int i = last; i >= 0; i--) {   // a step may lack one: the latest that has it
          if (!Double.isNaN(e.getValue()[i])) {
            m.put(label, e.getValue()[i]);
            break;
          }
        }
      }
      metrics = java.util.Map.copyOf(m);
    }
  }

  void update(RunSummary s) {
    if (s.cycle() != cycle) {
      // started over: until its first step, the new cycle has no loss (the last cycle's would read as this one's)
      loss = lr = gradNorm = Double.NaN;
      step = 0;
      cycle = s.cycle();
    }
    if (s.curvature() != null && Double.isNaN(sharpness)) {   // a restored run's, until it measures again
      sharpness = s.curvature().sharpness();
      stability = s.curvature().stability();
    }
    verdict = s.diagnosis().verdict();
    stateLabels = stateLabels(s.state(), s.reason());
    describe(s.spec());
    updatedMs = Math.max(updatedMs, s.updated());
  }

  private static String stateLabels(RunState state, String reason) {
    StringBuilder b = label(new StringBuilder(40).append(','), "state", state.label());
    return reason == null ? b.toString() : label(b.append(','), "reason", reason).toString();
  }

  /** Appends {@code name="value"} with the text format's escapes. */
  static StringBuilder label(StringBuilder b, String name, String value) {
    b.append(name).append("=\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '\\' -> b.append("\\\\");
        case '"' -> b.append("\\\"");
        case '\n' -> b.append("\\n");
        default -> b.append(c);
      }
    }
    return b.append('"');
  }
}
