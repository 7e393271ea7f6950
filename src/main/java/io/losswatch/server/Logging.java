package io.losswatch.server;

import java.util.logging.Filter;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The process's logging, configured in this one place (java.util.logging, which Vert.x, Micrometer and Hazelcast
 * log to here): what the libraries say that is noise, and how it is quieted. {@link Server} applies it before
 * anything starts; applying it again changes nothing. The loggers are held here because the logging framework
 * keeps them weakly: a level or filter set on a logger nobody holds would be lost with it.
 */
public final class Logging {
  /** Hazelcast tells every join, partition move and connection attempt at INFO: warnings are what matter here. */
  private static final Logger HAZELCAST = Logger.getLogger("com.hazelcast");
  /**
   * Hazelcast logs each connection the cluster's secret handshake refuses at WARNING with a stack trace; the
   * handshake says it in one line itself (at most one line per 10 s).
   */
  private static final Logger ACCEPTOR = Logger.getLogger("com.hazelcast.internal.server.tcp.TcpServerAcceptor");
  /**
   * The store's word can reach a run's {@code written} consumer as the run goes away (deleted, or the server
   * stopping), and Vert.x then logs "Discarding message since the consumer is not registered" for each: a race
   * with nothing lost (a gone run waits for nothing), so those lines are dropped; any other stays.
   */
  private static final Logger CONSUMERS = Logger.getLogger("io.vertx.core.eventbus.impl.MessageConsumerImpl");
  /**
   * vertx-micrometer-metrics 5.0 registers the event bus' handler gauge again at every consumer, as it does a few
   * other gauges of its own (vert-x3/vertx-micrometer-metrics#259); Micrometer then logs "This Gauge has been
   * already registered (MeterId{name='vertx.eventbus.handlers'…})" at every start. The value is right (Vert.x keeps
   * one counter per gauge and every registration reads it), so that line is dropped, for Vert.x's gauges only: a
   * double registration of any other meter is still logged.
   */
  private static final Logger MICROMETER = Logger.getLogger("io.micrometer.core.instrument.MeterRegistry");
  private static boolean configured;

  private Logging() {
  }

  /** Applies the rules above, once per process. */
  public static synchronized void configure() {
    if (configured) return;
    configured = true;
    HAZELCAST.setLevel(Level.WARNING);
    ACCEPTOR.setLevel(Level.SEVERE);
    drop(CONSUMERS, m -> m.startsWith("Discarding message since the consumer is not registered") && m.endsWith(".written"));
    drop(MICROMETER, m -> m.startsWith("This Gauge has been already registered (MeterId{name='vertx."));
  }

  /** Drops the records whose message matches, keeping any filter already there for the rest. */
  private static void drop(Logger logger, java.util.function.Predicate<String> message) {
    Filter before = logger.getFilter();
    logger.setFilter(r -> !(r.getMessage() != null && message.test(r.getMessage()))
        && (before == null || before.isLoggable(r)));
  }
}
