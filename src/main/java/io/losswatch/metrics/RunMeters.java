package io.losswatch.metrics;

import io.losswatch.core.RunSpec;
import io.losswatch.core.diagnosis.Verdict;
import io.losswatch.event.StepBatch;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.List;

/**
 * One run's series: gauges {@code losswatch_loss}, {@code losswatch_learning_rate}, {@code losswatch_grad_norm},
 * {@code losswatch_step} and the counter {@code losswatch_steps_total}, labelled run, name, problem, optimizer
 * and schedule; and {@code losswatch_run_diagnosis{…, verdict}}, 1 for the run's current verdict only. Written
 * by one thread, read by the scrape; {@link #close()} removes every series.
 */
final class RunMeters implements AutoCloseable {
  private final MeterRegistry registry;
  private final List<Meter> meters;
  private final Tags tags;
  private Verdict verdict;
  private Meter diagnosis;
  private final Counter steps;
  private volatile double loss = Double.NaN;
  private volatile double lr = Double.NaN;
  private volatile double gradNorm = Double.NaN;
  private volatile double step;

  RunMeters(MeterRegistry registry, String run, RunSpec spec) {
    this.registry = registry;
    tags = Tags.of("run", run, "name", spec.name(), "problem", spec.problem().type(),
        "optimizer", spec.optimizer().type(), "schedule", spec.schedule().type());
    steps = Counter.builder("losswatch.steps").description("Optimizer steps taken").tags(tags).register(registry);
    meters = List.of(
        gauge("losswatch.loss", "Loss at the latest step", tags, m -> m.loss),
        gauge("losswatch.learning.rate", "Learning rate used by the latest step", tags, m -> m.lr),
        gauge("losswatch.grad.norm", "L2 norm of the latest step's gradient", tags, m -> m.gradNorm),
        gauge("losswatch.step", "Latest step number", tags, m -> m.step),
        steps);
  }

  private Meter gauge(String name, String help, Tags tags, java.util.function.ToDoubleFunction<RunMeters> f) {
    return Gauge.builder(name, this, f).description(help).tags(tags).strongReference(true).register(registry);
  }

  void update(StepBatch b) {
    int last = b.size() - 1;
    loss = b.loss()[last];
    lr = b.lr()[last];
    gradNorm = b.gradNorm()[last];
    step = b.step()[last];
    steps.increment(b.size());
  }

  /** Moves the run's one diagnosis series to {@code v}. */
  void diagnosis(Verdict v) {
    if (v == verdict) return;
    if (diagnosis != null) registry.remove(diagnosis);
    verdict = v;
    diagnosis = Gauge.builder("losswatch.run.diagnosis", () -> 1).description("1 for the run's current verdict")
        .tags(tags.and("verdict", v.label())).register(registry);
  }

  @Override public void close() {
    meters.forEach(registry::remove);
    if (diagnosis != null) registry.remove(diagnosis);
  }
}
