package io.losswatch.metrics;

import io.losswatch.core.RunSpec;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.event.StepBatch;

/**
 * One run's series: gauges {@code losswatch_loss}, {@code losswatch_learning_rate}, {@code losswatch_grad_norm},
 * {@code losswatch_step}, the counter {@code losswatch_steps_total}, labelled name, optimizer, problem, run and
 * schedule, and {@code losswatch_run_diagnosis{…, verdict}}, 1 for the run's current verdict only. One
 * thread writes; the scrape reads the volatile fields. {@link RunSeries} writes them out.
 */
final class RunMeters {
  /** The label set, escaped and in Prometheus' order, written once. */
  final String labels;
  volatile double loss = Double.NaN;
  volatile double lr = Double.NaN;
  volatile double gradNorm = Double.NaN;
  volatile long step;
  volatile long steps;
  volatile Verdict verdict = Verdict.UNKNOWN;

  RunMeters(String run, RunSpec spec) {
    StringBuilder b = new StringBuilder(160);
    label(b.append('{'), "name", spec.name()).append(',');
    label(b, "optimizer", spec.optimizer().type()).append(',');
    label(b, "problem", spec.problem().type()).append(',');
    label(b, "run", run).append(',');
    label(b, "schedule", spec.schedule().type());
    labels = b.toString();   // left open: the diagnosis adds its verdict
  }

  void update(StepBatch b) {
    int last = b.size() - 1;
    loss = b.loss()[last];
    lr = b.lr()[last];
    gradNorm = b.gradNorm()[last];
    step = b.step()[last];
    steps += b.size();   // one writer: the metrics verticle
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
