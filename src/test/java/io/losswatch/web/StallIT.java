package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.VertxOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The stall watch: "stalled" means slower than the run's own pace allows. A run that really stops stepping is
 * made the way a hung disk makes one: every worker thread is kept busy, so the store cannot write, and a run
 * that goes as fast as it can is soon a whole window of steps ahead of its log and waits.
 */
class StallIT {
  @Test
  void aStuckRunRaisesStalledOnceAndASlowlyPacedRunDoesNot() throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).toBuilder().stallAfterMs(300).build();
    CountDownLatch release = new CountDownLatch(1);
    try (TestServer server = new TestServer(config); TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      // a step every 50 s: on its pace, however long --stall-after's 300 ms have passed
      String paced = server.create(spec("paced", 100, 0.02));
      String stuck = server.create(spec("stuck", 100_000_000, 0));

      // every worker thread busy: the store cannot write, and the fast run waits for it
      int workers = VertxOptions.DEFAULT_WORKER_POOL_SIZE;
      CountDownLatch busy = new CountDownLatch(workers);
      List<Future<Object>> blockers = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        blockers.add(server.server.vertx().executeBlocking(() -> {
          busy.countDown();
          return release.await(60, TimeUnit.SECONDS);
        }, false));
      }
      assertTrue(busy.await(10, TimeUnit.SECONDS), "the worker threads did not all start");
      Map<String, Object> alert = c.next(m -> "alert".equals(m.get("type")), 30);
      assertEquals(stuck, alert.get("run"), "the first stalled alert: " + alert);
      assertEquals("stalled", alert.get("kind"));
      String message = (String) alert.get("message");
      assertTrue(message.contains("no step for") && message.contains("it may take 0.3 s"), message);

      // stopped before the store can write again, so it does not then go flat out
      assertEquals(200, server.post("/api/runs/" + stuck + "/stop", null).status());
      release.countDown();
      for (Future<Object> b : blockers) TestServer.await(b);
      // the scrape runs on a worker thread too: it answers now
      MetricsIT.waitUntil(() -> MetricsIT.parse(server.get("/metrics").body()).stream().anyMatch(x ->
          x.name().equals("losswatch_alerts_total") && "stalled".equals(x.labels().get("kind")) && x.value() == 1));
      Map<String, Object> p = server.get("/api/runs/" + paced).json();
      assertEquals("running", p.get("state"));
      assertEquals(0.0, TestServer.num(p.get("step")));
      assertTrue(System.currentTimeMillis() - java.time.Instant.parse((String) p.get("updated")).toEpochMilli() >= 300,
          "the paced run had no step for longer than --stall-after, as the stuck one");
      // everything the server sent before this barrier's answer is in; no stalled alert for the paced run
      c.send("{\"op\":\"barrier\"}");
      c.next(m -> {
        assertTrue(!("alert".equals(m.get("type")) && paced.equals(m.get("run"))), "an alert for the paced run: " + m);
        return "error".equals(m.get("type")) && String.valueOf(m.get("message")).contains("barrier");
      }, 10);
      assertEquals(204, server.request("DELETE", "/api/runs/" + stuck, null).status());
      assertEquals(204, server.request("DELETE", "/api/runs/" + paced, null).status());
    } finally {
      release.countDown();
    }
  }

  private static String spec(String name, int steps, double pace) {
    return "{\"name\":\"" + name + "\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},"
        + "\"steps\":" + steps + ",\"steps_per_second\":" + pace + "}";
  }
}
