package io.losswatch.metrics;

import io.losswatch.event.Alert;
import io.losswatch.event.Events;
import io.losswatch.event.RunEvent;
import io.losswatch.event.RunState;
import io.losswatch.event.RunSummary;
import io.losswatch.event.StepBatch;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keeps each run's series current from the step stream, and bounded: a deleted run's series go at once, an
 * ended run's after the retention, and at most {@code maxRuns} runs are carried (ended runs are dropped
 * first, oldest first; beyond that a new run is not carried).
 */
public final class MetricsVerticle extends VerticleBase {
  private final MeterRegistry registry;
  private final long retentionMs;
  private final int maxRuns;
  private final RunSeries meters;
  private final Map<String, Long> expiries = new LinkedHashMap<>();
  private final Map<Alert.Kind, Counter> alerts = new EnumMap<>(Alert.Kind.class);

  public MetricsVerticle(ServerMeters server, long retentionMs, int maxRuns) {
    this.registry = server.own();
    this.meters = server.runSeries();
    this.retentionMs = retentionMs;
    this.maxRuns = maxRuns;
    for (Alert.Kind k : Alert.Kind.values()) {
      alerts.put(k, Counter.builder("losswatch.alerts").description("Alerts raised, by kind")
          .tag("kind", k.label()).register(registry));
    }
  }

  @Override
  public Future<?> start() {
    return Events.listen(vertx.eventBus(), Events.RUNS, new RunEvent.Listener() {
      @Override public void batch(StepBatch b) {
        RunMeters r = meters.get(b.run());
        if (r != null) r.update(b);
      }

      @Override public void summary(RunSummary s) {
        onRun(s);
      }

      @Override public void alert(Alert a) {
        alerts.get(a.kind()).increment();
      }
    }).completion();
  }

  private void onRun(RunSummary run) {
    String id = run.id();
    RunState state = run.state();
    cancelExpiry(id);
    if (state == RunState.DELETED) {
      drop(id);
      return;
    }
    if (meters.get(id) == null && state.isLive() && makeRoom()) meters.put(id, new RunMeters(id, run.spec()));
    RunMeters r = meters.get(id);
    if (r != null) r.update(run);   // an ended run's too: its series say "finished" (etc.) until they go
    if (!state.isLive() && r != null) {
      expiries.put(id, vertx.setTimer(retentionMs, t -> {
        expiries.remove(id);
        drop(id);
      }));
    }
  }

  private boolean makeRoom() {
    if (meters.size() < maxRuns) return true;
    String victim = expiries.keySet().stream().findFirst().orElse(null);   // the oldest ended run
    if (victim == null) return false;
    cancelExpiry(victim);
    drop(victim);
    return true;
  }

  private void cancelExpiry(String id) {
    Long timer = expiries.remove(id);
    if (timer != null) vertx.cancelTimer(timer);
  }

  private void drop(String id) {
    meters.remove(id);
  }
}
