package io.losswatch.alert;

import io.losswatch.core.config.Json;
import io.losswatch.core.diagnosis.Diagnosis;
import io.losswatch.event.Alert;
import io.losswatch.event.Events;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.run.Run;
import io.losswatch.run.RunRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.HashMap;
import java.util.Map;

/**
 * Watches for runs that stall (running, yet no step for longer than their pace allows, see {@link #allowedMs})
 * and raises a {@code stalled} alert once per stall; and, with {@code --alert-webhook}, hands every alert to the
 * {@link Webhook}.
 */
public final class AlertVerticle extends VerticleBase {
  private final RunRegistry runs;
  private final String webhookUrl;
  private final Map<String, Long> stalledAt = new HashMap<>();   // run → the step it stalled at
  private final long stallMs;

  public AlertVerticle(RunRegistry runs, String webhookUrl, long stallMs) {
    this.runs = runs;
    this.webhookUrl = webhookUrl;
    this.stallMs = stallMs;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(Math.max(100, stallMs / 5), id -> checkStalls(System.currentTimeMillis()));
    if (webhookUrl == null) return Future.succeededFuture();
    Webhook webhook = new Webhook(vertx, webhookUrl);
    return Events.listen(vertx.eventBus(), Events.RUNS, new RunEvent.Listener() {
      @Override public void alert(Alert a) {
        webhook.send(a);
      }
    }).completion();
  }

  /**
   * How long a running run may go without a step: {@code --stall-after} for a run that goes as fast as it can;
   * for a paced one, also at least three of its steps' time. A paced run's steps are 1/pace apart and its timer
   * wakes at most once a second, so a healthy one can go 1/pace + 1 s between steps; three steps' time leaves a
   * busy machine room without hiding a real stall for long. At 20 steps/s (the demo) --stall-after decides; at
   * 0.02 steps/s, a step every 50 s, 150 s do. The LosswatchRunStalled rule applies the same measure (with its own
   * floor) to losswatch_run_pace_steps_per_second.
   */
  static long allowedMs(double stepsPerSecond, long stallMs) {
    return stepsPerSecond > 0 ? Math.max(stallMs, (long) Math.ceil(3000 / stepsPerSecond)) : stallMs;
  }

  private void checkStalls(long now) {
    for (Run run : runs.local()) {
      RunSummary s = run.summary();
      Long at = stalledAt.get(run.id());
      if (s.state() != RunState.RUNNING || (at != null && s.step() != at)) {
        stalledAt.remove(run.id());   // moving again, or not meant to move
        continue;
      }
      double pace = run.spec().stepsPerSecond();
      long allowed = allowedMs(pace, stallMs);
      if (at == null && now - s.updated() >= allowed) {
        stalledAt.put(run.id(), s.step());
        Diagnosis d = s.diagnosis();
        Events.publish(vertx.eventBus(), new Alert(run.id(), s.name(), Alert.Kind.STALLED, s.step(),
            s.name() + ": stalled: running, yet no step for " + (now - s.updated()) / 1000 + " s after step "
                + s.step() + " (" + (pace > 0 ? "paced at " + Json.format(pace) + " steps/s, " : "") + "it may take "
                + Math.round(allowed / 100.0) / 10.0 + " s)" + (d.hasAdvice() ? ". Advice: " + d.advice() : ""),
            Double.NaN, now));
      }
    }
    stalledAt.keySet().retainAll(runs.local().stream().map(Run::id).toList());
  }
}
