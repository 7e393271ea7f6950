package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Soak;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A bounded soak (about 15 s): runs start and stop, clients connect, read slowly or vanish. Afterwards the
 * server holds what it held before: no WebSocket session, no extra event-bus consumer, no stray metric
 * series, and a heap back near where it started.
 */
class SoakIT {
  private static double metric(TestServer server, String name) throws Exception {
    return MetricsIT.parse(server.get("/metrics").body()).stream().filter(s -> s.name().equals(name))
        .mapToDouble(MetricsIT.Sample::value).sum();
  }

  private static long series(TestServer server) throws Exception {
    return MetricsIT.parse(server.get("/metrics").body()).stream()
        .filter(s -> s.name().startsWith("losswatch_") && s.labels().containsKey("run")).count();
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  @Test
  void resourcesStayFlat() throws Exception {
    try (TestServer server = new TestServer()) {
      String first = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":10}");
      MetricsIT.waitUntil(() -> "finished".equals(server.get("/api/runs/" + first).json().get("state")));
      double handlers = metric(server, "vertx_eventbus_handlers");
      long baseline = series(server);   // the finished run's series stay for the retention
      long heap = heapAfterGc();
      SplittableRandom r = new SplittableRandom(7);
      List<String> runs = new ArrayList<>();
      List<TestServer.Client> clients = new ArrayList<>();
      long end = System.nanoTime() + 12_000_000_000L;
      int rounds = 0;
      while (System.nanoTime() < end) {
        rounds++;
        runs.add(server.create("{\"problem\":\"" + (r.nextBoolean() ? "rosenbrock" : "logreg") + "\",\"optimizer\":"
            + "{\"type\":\"adam\",\"lr\":0.01},\"steps\":" + r.nextInt(1000, 200_000)
            + ",\"steps_per_second\":" + r.nextInt(100, 20_000) + "}"));
        TestServer.Client c = server.client();
        c.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"" + (r.nextBoolean() ? "all" : "live") + "\"}");
        if (r.nextInt(3) == 0) c.ws.pause();   // reads nothing from now on
        clients.add(c);
        if (clients.size() > 6) {
          TestServer.Client gone = clients.remove(r.nextInt(clients.size()));
          if (r.nextBoolean()) gone.ws.close();
          else gone.ws.close((short) 1000);
        }
        if (runs.size() > 5) {
          String id = runs.remove(r.nextInt(runs.size()));
          if (r.nextBoolean()) server.post("/api/runs/" + id + "/stop", "");
          assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
        }
      }
      for (TestServer.Client c : clients) c.ws.close();
      for (String id : runs) assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
      MetricsIT.waitUntil(() -> metric(server, "losswatch_ws_clients") == 0);
      MetricsIT.waitUntil(() -> series(server) == baseline, "no run series left behind");
      assertTrue(rounds > 10, "the soak did work: " + rounds + " rounds");
      MetricsIT.waitUntil(() -> metric(server, "vertx_eventbus_handlers") == handlers, "no consumer left behind");
      long grown = heapAfterGc() - heap;
      System.out.println("SoakIT: heap grew by " + (grown >> 20) + " MiB");
      if (Soak.ON) assertTrue(grown < 64L << 20, "heap grew by " + (grown >> 20) + " MiB");
    }
  }
}
