package io.losswatch.metrics;

import io.losswatch.event.RunState;
import io.losswatch.run.RunRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Everything /metrics shows, in three parts: the JVM's and Vert.x's series ({@link #registry()}, the bulk of a
 * scrape's cost, rebuilt at most every {@link #PROCESS_SERIES_MAX_AGE_MS}: none of it moves faster than
 * Prometheus scrapes); losswatch's own process-wide series ({@code losswatch_runs{state}},
 * {@code losswatch_ws_clients}, {@code losswatch_ws_dropped_total}, {@code losswatch_alerts_total{kind}}),
 * always fresh; and every run's series, always fresh.
 */
public final class ServerMeters {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final PrometheusMeterRegistry own = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicInteger wsClients = new AtomicInteger();
  private final Counter wsDropped;
  private final AtomicLong bodyBytes = new AtomicLong();
  private final Counter bodiesBusy;
  private final RunSeries runSeries = new RunSeries();
  static final long PROCESS_SERIES_MAX_AGE_MS = 1000;
  private String processSeries;
  private long processSeriesAt;

  public ServerMeters() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    Gauge.builder("losswatch.ws.clients", wsClients, AtomicInteger::get)
        .description("Open WebSocket connections").register(own);
    wsDropped = Counter.builder("losswatch.ws.dropped")
        .description("Messages not sent to slow WebSocket clients (conflated or replaced by a gap)")
        .register(own);
    Gauge.builder("losswatch.http.body.bytes", bodyBytes, AtomicLong::get)
        .description("Request bodies being read now, as declared (bounded: beyond, 503 busy)").register(own);
    bodiesBusy = Counter.builder("losswatch.http.busy")
        .description("Requests refused 503 before their body was read: too many bodies being read at once")
        .register(own);
  }

  /** Counts runs by state at every scrape. */
  public void bind(RunRegistry runs) {
    for (RunState s : RunState.values()) {
      Gauge.builder("losswatch.runs", runs, r -> r.count(s)).description("Runs by state")
          .tag("state", s.label()).register(own);
    }
  }

  /** Where the JVM's and Vert.x's meters go. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Where losswatch's own process-wide meters go. */
  PrometheusMeterRegistry own() {
    return own;
  }

  RunSeries runSeries() {
    return runSeries;
  }

  /**
   * The whole exposition (text format 0.0.4), parts as above. Blocks: call it off the event loop.
   */
  public synchronized String scrape() {
    long now = System.nanoTime();
    if (processSeries == null || now - processSeriesAt > PROCESS_SERIES_MAX_AGE_MS * 1_000_000) {
      processSeries = registry.scrape();
      processSeriesAt = now;
    }
    StringBuilder b = new StringBuilder(processSeries.length() + 4096 + runSeries.size() * 1800);
    runSeries.write(b.append(processSeries).append(own.scrape()));
    return b.toString();
  }

  public AtomicInteger wsClients() {
    return wsClients;
  }

  public Counter wsDropped() {
    return wsDropped;
  }

  public AtomicLong bodyBytes() {
    return bodyBytes;
  }

  public Counter bodiesBusy() {
    return bodiesBusy;
  }
}
