package io.losswatch.metrics;

import io.losswatch.event.RunState;
import io.losswatch.train.RunRegistry;
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

/**
 * Owns the Prometheus registry (the process-wide series below, JVM and Vert.x) and the per-run series.
 * The process-wide series: {@code losswatch_runs{state}}, {@code losswatch_ws_clients},
 * {@code losswatch_ws_dropped_total}, and the JVM's. Owns the Prometheus registry everything registers into.
 */
public final class ServerMeters {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicInteger wsClients = new AtomicInteger();
  private final Counter wsDropped;
  private final RunSeries runSeries = new RunSeries();

  public ServerMeters() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    Gauge.builder("losswatch.ws.clients", wsClients, AtomicInteger::get)
        .description("Open WebSocket connections").register(registry);
    wsDropped = Counter.builder("losswatch.ws.dropped")
        .description("Messages not sent to slow WebSocket clients (conflated or replaced by a gap)")
        .register(registry);
  }

  /** Counts runs by state at every scrape. */
  public void bind(RunRegistry runs) {
    for (RunState s : RunState.values()) {
      Gauge.builder("losswatch.runs", runs, r -> r.count(s)).description("Runs by state")
          .tag("state", s.label()).register(registry);
    }
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  RunSeries runSeries() {
    return runSeries;
  }

  /** The whole exposition (text format 0.0.4): the registry's series, then every run's. Blocks: call off the loop. */
  public String scrape() {
    StringBuilder b = new StringBuilder(registry.scrape());
    runSeries.write(b);
    return b.toString();
  }

  public AtomicInteger wsClients() {
    return wsClients;
  }

  public Counter wsDropped() {
    return wsDropped;
  }
}
