package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static io.losswatch.web.TestServer.runState;
import static io.losswatch.web.TestServer.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import io.losswatch.Soak;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Clients that read slowly or not at all cost the server a bounded amount, and not for long. */
class SlowClientIT {
  private static final String SHORT = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
      + "\"steps\":2000}";

  static double clients(TestServer server) throws Exception {
    return MetricsIT.parse(server.get("/metrics").body()).stream()
        .filter(s -> s.name().equals("losswatch_ws_clients")).mapToDouble(MetricsIT.Sample::value).sum();
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static void finish(TestServer server, int runs, String spec) throws Exception {
    for (int i = 0; i < runs; i++) server.create(spec);
    MetricsIT.waitUntil(() -> server.get("/api/runs").list().stream()
        .allMatch(r -> "finished".equals(((Map<?, ?>) r).get("state"))), runs + " runs finish");
  }

  @Test
  void clientsThatNeverReadAreCutOffAndOthersKeepStreaming() throws Exception {
    try (TestServer server = new TestServer(); TestServer.Client reader = server.client();
        RawWsClient raw = new RawWsClient(server.port()); RawWsClient quiet = new RawWsClient(server.port())) {
      reader.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      long start = System.nanoTime();
      raw.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      // a trickle: the kernels' buffers alone would take it for minutes
      quiet.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\",\"max_hz\":1}");
      List<String> fast = new ArrayList<>();   // unthrottled: megabytes a second for the raw client's queue
      for (int i = 0; i < 3; i++) {
        fast.add(server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},\"steps\":1000000}"));
      }
      String paced = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
          + "\"steps\":1000000,\"steps_per_second\":20000}");
      java.util.Set<String> unfinished = new java.util.HashSet<>(fast);   // in whatever order they finish
      while (!unfinished.isEmpty()) {
        Map<String, Object> m = reader.next(x -> "run".equals(x.get("type"))
            && "finished".equals(((Map<?, ?>) x.get("run")).get("state")), 30);
        unfinished.remove(((Map<?, ?>) m.get("run")).get("id"));
      }
      // the reader follows the paced run all along, while the server gives up on the raw clients
      double seen = 0;
      // cut off it must be; how soon after its 10 s is the machine's business (a loaded one is slower)
      long deadline = start + TimeUnit.MILLISECONDS.toNanos(Outbound.STALL_MS + 30_000);
      while (clients(server) > 1) {
        assertTrue(System.nanoTime() < deadline, "a client that never reads is still connected");
        Map<String, Object> m = reader.next(type("steps"), 5);
        if (paced.equals(m.get("run"))) seen = Math.max(seen, nums(m.get("step")).get(nums(m.get("step")).size() - 1));
      }
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      System.out.println("the clients that never read were cut off " + tookMs + " ms after they connected");
      assertTrue(tookMs >= Outbound.STALL_MS - 500, "not before their 10 s: " + tookMs + " ms");
      final double before = seen;
      reader.next(m -> paced.equals(m.get("run")) && "steps".equals(m.get("type"))
          && nums(m.get("step")).get(0) > before, 5);
      assertTrue(raw.readsToTheEnd(5000), "the TCP connection is closed (EOF or reset)");
      assertTrue(quiet.readsToTheEnd(5000), "the TCP connection is closed (EOF or reset)");
      assertEquals(204, server.request("DELETE", "/api/runs/" + paced, null).status());
    }
  }

  @Test
  void historyRepliesCountAgainstTheQueue() throws Exception {
    try (TestServer server = new TestServer()) {
      finish(server, 200, SHORT);
      long baseline = heapAfterGc();
      try (RawWsClient raw = new RawWsClient(server.port())) {
        for (int i = 0; i < 50; i++) {
          raw.send("{\"op\":\"unsubscribe\",\"runs\":[\"*\"]}");
          raw.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
        }
        // it never reads: sample the heap for a few seconds while it stays connected (paced: a full GC stops
        // the event loops too, and the blocked-thread check is strict)
        long worst = 0;
        for (int i = 0; i < 4; i++) {
          TimeUnit.MILLISECONDS.sleep(750);
          System.gc();
          worst = Math.max(worst, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() - baseline);
        }
        assertEquals(1.0, clients(server), "still connected while sampled");
        System.out.println("a client that never reads, 50 resubscribes to 200 runs: heap at most "
            + (worst >> 20) + " MiB over the baseline of " + (baseline >> 20) + " MiB");
        if (Soak.ON) assertTrue(worst < 64L << 20, "heap grew by " + (worst >> 20) + " MiB");
        assertNotNull(raw.readUntil(InboundLimits.subscribeRefusal(), 10_000), "the excess subscribes were refused");
      }
    }
  }

  /** Sends a subscribe to {@code run} and a barrier; true if it was taken (the run's summary came), false if refused. */
  private static boolean subscribed(TestServer.Client c, String run) throws Exception {
    c.send("{\"op\":\"unsubscribe\",\"runs\":[\"*\"]}");
    c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"]}");
    c.send("{\"op\":\"barrier\"}");
    boolean taken = false;
    boolean refused = false;
    while (true) {
      Map<String, Object> m = c.next(x -> true, 10);
      if (runState(run, "finished").test(m)) taken = true;
      String message = String.valueOf(m.get("message"));
      if (message.contains("too many subscribe requests")) refused = true;
      if (message.contains("barrier")) break;
    }
    assertTrue(taken != refused, "either taken or refused");
    return taken;
  }

  @Test
  void subscribesAreRateLimitedWithASmallBurst() throws Exception {
    try (TestServer server = new TestServer(); TestServer.Client c = server.client()) {
      String run = server.create(SHORT);
      MetricsIT.waitUntil(() -> "finished".equals(server.get("/api/runs/" + run).json().get("state")));
      long start = System.nanoTime();
      for (int i = 0; i < InboundLimits.SUBSCRIBE_BURST; i++) assertTrue(subscribed(c, run), "subscribe " + (i + 1));
      assertTrue(!subscribed(c, run), "the 11th subscribe in a burst is refused");
      int polls = 0;
      while (!subscribed(c, run)) {   // a token comes back a second after the burst began
        assertTrue(System.nanoTime() - start < 30_000_000_000L, "a subscribe works again after a second");
        polls++;
        TimeUnit.MILLISECONDS.sleep(100);   // the polling pace: each poll costs 3 of the 100 messages a minute
      }
      assertTrue(System.nanoTime() - start >= 900_000_000L || polls == 0, "not before the refill");
    }
  }

  @Test
  void aRunsOverviewIsComputedOnceForEveryone() throws Exception {
    try (TestServer server = new TestServer()) {
      String run = server.create(SHORT.replace("2000", "20000"));
      MetricsIT.waitUntil(() -> "finished".equals(server.get("/api/runs/" + run).json().get("state")));
      long loads = HistoryCache.LOADS.get();
      List<String> histories = new ArrayList<>();
      List<TestServer.Client> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 20; i++) {
          TestServer.Client c = server.client();
          clients.add(c);
          c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"live\"}");
        }
        for (TestServer.Client c : clients) {
          while (true) {
            String text = c.inbox.poll(10, TimeUnit.SECONDS);
            assertNotNull(text, "a history message");
            if (text.startsWith("{\"type\":\"steps\"")) {
              histories.add(text);
              break;
            }
          }
        }
      } finally {
        for (TestServer.Client c : clients) c.close();
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> first = (Map<String, Object>) Json.parse(histories.get(0));
      int points = ((List<?>) first.get("step")).size();
      assertTrue(points > 0 && points <= 2000, "downsampled to at most 2,000 points: " + points);
      assertEquals(Boolean.TRUE, first.get("downsampled"), "and marked so");
      assertTrue(histories.stream().allMatch(histories.get(0)::equals), "every client got the same overview");
      // once per gateway: the server runs one HTTP verticle per core, each with its own cache
      long gateways = Math.max(1, Runtime.getRuntime().availableProcessors());
      long read = HistoryCache.LOADS.get() - loads;
      assertTrue(read >= 1 && read <= gateways, "read and written once per gateway, not per client: " + read);
    }
  }

  @Test
  void aRunningRunsOverviewIsSharedAndEachClientsFirstBucketTakesUpWhereItEnds() throws Exception {
    try (TestServer server = new TestServer()) {
      // x² under SGD falls at every step: a bucket's largest loss is its first step
      String run = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.0001},"
          + "\"steps\":10000000,\"steps_per_second\":20000}");
      MetricsIT.waitUntil(() -> TestServer.num(server.get("/api/runs/" + run).json().get("step")) >= 1000);
      long loads = HistoryCache.LOADS.get();
      long start = System.nanoTime();
      List<TestServer.Client> clients = new ArrayList<>();
      try {
        for (int i = 0; i < 40; i++) {   // a reconnect storm, in small
          TestServer.Client c = server.client();
          clients.add(c);
          c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"live\",\"max_hz\":10}");
        }
        for (TestServer.Client c : clients) {
          List<Double> overview = nums(c.next(m -> "steps".equals(m.get("type")) && run.equals(m.get("run"))
              && !m.containsKey("frame"), 30).get("step"));
          List<Double> bucket = nums(c.next(m -> "steps".equals(m.get("type")) && run.equals(m.get("run")), 30).get("step"));
          assertEquals(overview.get(overview.size() - 1) + 1, bucket.get(0),
              "the first bucket takes up right after the overview: no step between is lost");
        }
      } finally {
        for (TestServer.Client c : clients) c.close();
      }
      // once a second per gateway (one HTTP verticle per core, each with its own cache), not once per client
      long seconds = (System.nanoTime() - start) / 1_000_000_000L + 1;
      long read = HistoryCache.LOADS.get() - loads;
      long gateways = Math.max(1, Runtime.getRuntime().availableProcessors());
      assertTrue(read <= gateways * seconds && read < 40, read + " overviews read for 40 clients in " + seconds + " s");
    }
  }
}
