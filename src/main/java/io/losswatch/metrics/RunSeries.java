package io.losswatch.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.ToDoubleFunction;

/**
 * Every run's series, written straight into the Prometheus text format. There can be thousands of runs,
 * and a registry that builds a snapshot object per series and per scrape costs microseconds a series; these
 * are a few plain numbers per run, so they are written directly, after the registry's own (process-wide)
 * series, in the same exposition. Thread-safe: the metrics verticle adds and removes, any thread scrapes.
 */
final class RunSeries {
  private final Map<String, RunMeters> runs = new ConcurrentSkipListMap<>();

  void put(String run, RunMeters m) {
    runs.put(run, m);
  }

  RunMeters get(String run) {
    return runs.get(run);
  }

  RunMeters remove(String run) {
    return runs.remove(run);
  }

  int size() {
    return runs.size();
  }

  void write(StringBuilder b) {
    if (runs.isEmpty()) return;
    gauge(b, "losswatch_loss", "Loss at the latest step", m -> m.loss);
    gauge(b, "losswatch_learning_rate", "Learning rate used by the latest step", m -> m.lr);
    gauge(b, "losswatch_grad_norm", "L2 norm of the latest step's gradient", m -> m.gradNorm);
    gauge(b, "losswatch_step", "Latest step number", m -> m.step);
    measured(b, "losswatch_sharpness", "The loss' sharpness at the last curvature measurement: the Hessian's top "
        + "eigenvalue (of the preconditioned Hessian for Adam, AdamW, RMSprop, Adagrad)", m -> m.sharpness);
    measured(b, "losswatch_stability", "lr x sharpness / the optimizer's stability threshold at the last measurement: "
        + "above 1 the steps overshoot along the sharpest direction", m -> m.stability);
    family(b, "losswatch_steps_total", "Optimizer steps taken", "counter");
    for (RunMeters m : runs.values()) sample(b, "losswatch_steps_total", m.labels, m.steps);
    family(b, "losswatch_run_diagnosis", "1 for the run's current verdict", "gauge");
    for (RunMeters m : runs.values()) {
      b.append("losswatch_run_diagnosis").append(m.labels).append(",verdict=\"").append(m.verdict.label())
          .append("\"} 1.0\n");
    }
    family(b, "losswatch_run_state", "1 for the run's current state (reason: why it paused by itself)", "gauge");
    for (RunMeters m : runs.values()) {
      b.append("losswatch_run_state").append(m.labels).append(m.stateLabels).append("} 1.0\n");
    }
    gauge(b, "losswatch_run_cycle", "How many times the run started over (demo runs do when they end)", m -> m.cycle);
    gauge(b, "losswatch_run_pace_steps_per_second", "The pace the run's spec asks for; 0: as fast as it goes",
        m -> m.pace);
    gauge(b, "losswatch_run_updated_timestamp_seconds", "When the run last took a step or changed state",
        m -> m.updatedMs / 1000.0);
    family(b, "losswatch_run_info", "1 for every run, labelled with its lr, tags and up to 8 config values", "gauge");
    for (RunMeters m : runs.values()) b.append("losswatch_run_info").append(m.labels).append(m.info).append("} 1.0\n");
    boolean any = false;
    for (RunMeters m : runs.values()) {
      if (m.sweep == null) continue;
      if (!any) family(b, "losswatch_run_sweep", "1 for a run of a sweep, labelled with the sweep's id", "gauge");
      any = true;
      b.append("losswatch_run_sweep").append(m.labels).append(m.sweep).append("} 1.0\n");
    }
    any = false;
    for (RunMeters m : runs.values()) {
      for (var e : m.metrics.entrySet()) {
        if (!any) family(b, "losswatch_metric", "An external run's extra scalar (metric) at its latest step", "gauge");
        any = true;
        sample(b, "losswatch_metric", m.labels + e.getKey(), e.getValue());
      }
    }
  }

  private void gauge(StringBuilder b, String name, String help, ToDoubleFunction<RunMeters> value) {
    family(b, name, help, "gauge");
    for (RunMeters m : runs.values()) sample(b, name, m.labels, value.applyAsDouble(m));
  }

  /** A gauge whose runs have a sample once they measured one (not NaN): none before, so no series reads NaN. */
  private void measured(StringBuilder b, String name, String help, ToDoubleFunction<RunMeters> value) {
    boolean any = false;
    for (RunMeters m : runs.values()) {
      double v = value.applyAsDouble(m);
      if (Double.isNaN(v)) continue;
      if (!any) family(b, name, help, "gauge");
      any = true;
      sample(b, name, m.labels, v);
    }
  }

  private static void family(StringBuilder b, String name, String help, String type) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(StringBuilder b, String name, String labels, double v) {
    b.append(name).append(labels).append("} ");
    if (Double.isNaN(v)) b.append("NaN");
    else if (Double.isInfinite(v)) b.append(v > 0 ? "+Inf" : "-Inf");
    else b.append(v);
    b.append('\n');
  }
}
