package io.losswatch.web;

import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the HTTP side needs to know and to count: where it listens, whom it lets in, and the meters it feeds
 * ({@code scrape} writes {@code /metrics}; it blocks, so it is called off the event loop). {@code bodyBytes}: the
 * request bodies being read, over every HTTP verticle ({@link BodyLimits}).
 */
public record WebConfig(String host, int port, List<String> allowedHosts, List<String> allowedOrigins, String token,
    boolean publicRead, int maxSteps, int maxClients, Callable<String> scrape, AtomicInteger wsClients, Counter wsDropped,
    AtomicLong bodyBytes, Counter bodiesBusy) {
}
