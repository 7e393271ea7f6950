package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sweeps over the lr: one run each, grouped, ranked live, the worse ones stopped at milestones. */
class SweepIT {
  static List<Map<?, ?>> ranked(TestServer s, String sweep) throws Exception {
    @SuppressWarnings("unchecked")
    List<Map<?, ?>> runs = (List<Map<?, ?>>) s.get("/api/sweeps/" + sweep).json().get("runs");
    return runs;
  }

  static boolean allEnded(TestServer s, String sweep) throws Exception {
    return ranked(s, sweep).stream().allMatch(r -> !List.of("created", "running", "paused").contains(r.get("state")));
  }

  @Test
  void aSweepRunsOneRunPerLrGroupedAndRanked() throws Exception {
    try (TestServer s = new TestServer()) {
      TestServer.Response r = s.post("/api/sweeps", "{\"base\":{\"name\":\"x²\",\"problem\":\"quadratic\","
          + "\"optimizer\":{\"type\":\"sgd\"},\"steps\":300},\"lr\":{\"from\":0.001,\"to\":1,\"factor\":10}}");
      assertEquals(201, r.status(), r.body());
      String sweep = (String) r.json().get("sweep");
      List<?> runs = (List<?>) r.json().get("runs");
      assertEquals(4, runs.size());
      for (Object o : runs) assertEquals(sweep, ((Map<?, ?>) o).get("sweep"));
      assertEquals("x² lr=0.001", ((Map<?, ?>) runs.get(0)).get("name"));
      MetricsIT.waitUntil(() -> allEnded(s, sweep));
      // x² from 10: lr 0.1 shrinks fastest, 0.01 and 0.001 creep, 1.0 bounces between ±10 for ever
      List<Double> order = ranked(s, sweep).stream().map(x -> num(x.get("lr"))).toList();
      assertEquals(List.of(0.1, 0.01, 0.001, 1.0), order);
      assertEquals(1.0, num(ranked(s, sweep).get(0).get("rank")));
      String metrics = s.get("/metrics").body();
      assertEquals(4, metrics.lines().filter(l -> l.startsWith("losswatch_run_sweep{") && l.contains("sweep=\"" + sweep + "\"")).count(),
          "one losswatch_run_sweep series per run");
      assertTrue(s.get("/api/sweeps").body().contains("\"sweep\":\"" + sweep + "\""));
    }
  }

  @Test
  void anEarlyStopStopsTheWorseHalfAtEachMilestone() throws Exception {
    try (TestServer s = new TestServer()) {
      TestServer.Response r = s.post("/api/sweeps", "{\"base\":{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\"},"
          + "\"steps\":3000,\"steps_per_second\":500},\"lr\":[0.001,0.01,0.1,0.45],\"early_stop\":{\"at\":[20,40],\"keep\":0.5}}");
      assertEquals(201, r.status(), r.body());
      String sweep = (String) r.json().get("sweep");
      // at step 20 the two slow ones go; at step 40 the worse of the two left (0.1 against 0.45, which is at 1e-27)
      // marked early_stopped when the sweep decides; stopped once each run takes the command
      MetricsIT.waitUntil(() -> ranked(s, sweep).stream().filter(x -> Boolean.TRUE.equals(x.get("early_stopped"))
          && "stopped".equals(x.get("state"))).count() == 3, "three stopped by the early stop");
      for (Map<?, ?> x : ranked(s, sweep)) {
        boolean stopped = Boolean.TRUE.equals(x.get("early_stopped"));
        assertEquals(num(x.get("lr")) != 0.45, stopped, x.toString());
        if (stopped) {
          assertEquals("stopped", x.get("state"), x.toString());
          assertTrue(num(x.get("step")) < 200, "stopped soon after its milestone: " + x);
        }
      }
      assertEquals(204, s.request("DELETE", "/api/runs/" + ranked(s, sweep).get(0).get("id"), null).status());
    }
  }

  @Test
  void badSweepsAreRefusedNamingTheField() throws Exception {
    try (TestServer s = new TestServer()) {
      String base = "\"base\":{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\"},\"steps\":10}";
      TestServer.Response none = s.post("/api/sweeps", "{" + base + "}");
      assertEquals(400, none.status());
      assertTrue(none.body().contains("\"field\":\"lr\""), none.body());
      TestServer.Response both = s.post("/api/sweeps", "{" + base + ",\"lr\":{\"from\":0.1,\"to\":1,\"factor\":2,\"num\":3}}");
      assertEquals(400, both.status());
      TestServer.Response many = s.post("/api/sweeps", "{" + base + ",\"lr\":{\"from\":0.001,\"to\":1,\"num\":500}}");
      assertEquals(400, many.status());
      TestServer.Response order = s.post("/api/sweeps", "{" + base + ",\"lr\":[0.1],\"early_stop\":{\"at\":[50,20]}}");
      assertEquals(400, order.status());
      assertTrue(order.body().contains("early_stop.at"), order.body());
      TestServer.Response spec = s.post("/api/sweeps", "{\"base\":{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\"}},"
          + "\"lr\":[0.1]}");
      assertEquals(400, spec.status());
      assertTrue(spec.body().contains("base.steps"), spec.body());
      assertEquals(404, s.get("/api/sweeps/nosuch").status());
    }
  }
}
