package io.losswatch.web;

import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Clients that subscribe to every run ("*") and never read cost the server's ticks nothing, however many runs
 * there are (issue 19.5): a tick's work is what is due (a client with room, a bucket, a state change), never
 * runs × clients.
 * A client that reads still gets every run. (The figures, /health with 2,000 such clients and 4,000 runs: bench
 * --only=wildcard.)
 */
class WildcardSubscribersIT {
  private static final int RUNS = 200;
  private static final int STALLED = 40;

  /** Waits until the sessions have ticked {@code n} more times in all. */
  private static void ticks(long n) throws InterruptedException {
    long until = WsSession.TICKS.get() + n;
    long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(io.losswatch.Patience.seconds(10));
    while (WsSession.TICKS.get() < until) {
      assertTrue(System.nanoTime() < end, "the sessions stopped ticking");
      Thread.sleep(10);
    }
  }

  @Test
  void stalledWildcardSubscribersCostTheTicksNothingAndAReaderGetsEveryRun() throws Exception {
    try (TestServer s = new TestServer()) {
      Set<String> ids = new HashSet<>();
      for (int i = 0; i < RUNS; i++) {
        String id = s.create("{\"source\":\"external\",\"name\":\"r" + i + "\"}");
        assertEquals(200, s.post("/api/runs/" + id + "/steps", "{\"step\":[1,2,3],\"loss\":[3,2,1]}").status());
        assertEquals(200, s.post("/api/runs/" + id + "/finish", "{\"state\":\"finished\"}").status());
        ids.add(id);
      }
      List<RawWsClient> stalled = new ArrayList<>();
      try {
        for (int i = 0; i < STALLED; i++) {
          RawWsClient c = new RawWsClient(s.port());
          stalled.add(c);
          c.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
        }
        // 200 ticks of every session, 2 s: a stalled client's unanswered pings leave it no room after 1 s
        ticks(200L * STALLED);
        long visits = WsSession.VISITS.get();
        long ticks = WsSession.TICKS.get();
        ticks(100L * STALLED);
        double perTick = (double) (WsSession.VISITS.get() - visits) / (WsSession.TICKS.get() - ticks);
        assertTrue(perTick <= 1, "subscriptions a stalled client's tick looked at, with " + RUNS + " runs: " + perTick);
        System.out.println("WildcardSubscribersIT: " + perTick + " subscriptions looked at per session tick, "
            + STALLED + " stalled clients, " + RUNS + " runs");
        assertEquals(200, s.get("/health").status());

        // a client that reads gets every run, each introduced by its summary, and then what happens next
        try (TestServer.Client reader = s.client()) {
          reader.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
          Set<String> introduced = new HashSet<>();
          while (!introduced.containsAll(ids)) {
            Map<String, Object> m = reader.next(TestServer.type("run"), 30);
            introduced.add((String) ((Map<?, ?>) m.get("run")).get("id"));
          }
          String late = s.create("{\"source\":\"external\",\"name\":\"late\"}");
          reader.next(runState(late, "running"), 10);
          assertEquals(200, s.post("/api/runs/" + late + "/steps", "{\"step\":[1,2],\"loss\":[2,1]}").status());
          reader.next(m -> "steps".equals(m.get("type")) && late.equals(m.get("run")), 10);
        }
      } finally {
        for (RawWsClient c : stalled) c.close();
      }
    }
  }
}
