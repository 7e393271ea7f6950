package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The learning-rate range test over REST: a run like any other, its curve and the lrs it suggests. */
class LrRangeApiIT {
  @Test
  void aRangeTestRampsTheLrStopsWhenTheLossRunsAwayAndSuggests() throws Exception {
    try (TestServer s = new TestServer(); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      // x² under plain SGD converges for lr < 1 and blows up past it
      TestServer.Response r = s.post("/api/lr-range", "{\"base\":{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\"}},"
          + "\"start_lr\":1e-5,\"end_lr\":100,\"num_steps\":200}");
      assertEquals(200, r.status(), r.body());
      Map<String, Object> a = r.json();
      String id = (String) a.get("run");
      List<Double> lr = nums(a.get("lr"));
      List<Double> smoothed = nums(a.get("smoothed"));
      assertEquals(1e-5, lr.get(0));
      assertEquals(1e-5 * Math.pow(1e7, 1.0 / 199), lr.get(1), 1e-5 * 1e-12, "exp: start·(end/start)^(i/(n−1))");
      assertEquals(Boolean.TRUE, a.get("stopped_early"), "x² blows up long before lr 100");
      assertTrue(lr.size() < 200 && lr.size() > 50, "steps: " + lr.size());
      double best = Double.POSITIVE_INFINITY;
      for (int i = 0; i < smoothed.size(); i++) {   // it stops once the smoothed loss passes 4× its lowest so far
        best = Math.min(best, smoothed.get(i));
        assertEquals(i == smoothed.size() - 1, smoothed.get(i) > 4 * best, "step " + (i + 1));
      }
      Map<?, ?> sug = (Map<?, ?>) a.get("suggestions");
      for (String k : List.of("steepest", "valley", "minimum/10")) {
        double v = num(sug.get(k));
        assertTrue(v > 1e-5 && v < 1, k + " within the ramp, where x² still converges: " + v);
      }
      // a run like any other: listed, streamed in order, its export the trace of its spec
      Map<String, Object> run = s.get("/api/runs/" + id).json();
      assertEquals("finished", run.get("state"));
      Map<String, Object> steps = c.next(m -> "steps".equals(m.get("type")) && id.equals(m.get("run")), 10);
      assertEquals(1.0, nums(steps.get("step")).get(0));
      StringWriter trace = new StringWriter();
      trace.write(TraceCommand.export(RunSpec.from(run.get("spec"))));
      assertEquals(trace.toString(), s.get("/api/runs/" + id + "/steps.csv").body());
      // its loss blew up on purpose: no alert says so
      assertTrue(s.get("/metrics").body().contains("losswatch_alerts_total{kind=\"diverging\"} 0.0"));
      // asked again later, the same answer
      assertEquals(a, s.get("/api/lr-range/" + id).json());
    }
  }

  @Test
  void badRangeTestsAreRefusedNamingTheField() throws Exception {
    try (TestServer s = new TestServer()) {
      TestServer.Response down = s.post("/api/lr-range", "{\"base\":{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"sgd\"}},"
          + "\"start_lr\":1,\"end_lr\":0.1}");
      assertEquals(400, down.status());
      assertTrue(down.body().contains("end_lr"), down.body());
      TestServer.Response none = s.post("/api/lr-range", "{\"start_lr\":1e-6}");
      assertEquals(400, none.status());
      assertTrue(none.body().contains("\"field\":\"base\""), none.body());
      TestServer.Response bad = s.post("/api/lr-range", "{\"base\":{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"sgdd\"}}}");
      assertEquals(400, bad.status());
      assertTrue(bad.body().contains("base.optimizer.type"), bad.body());
      assertEquals(400, s.post("/api/lr-range", "{\"base\":{\"problem\":\"logreg\",\"optimizer\":{\"type\":\"sgd\"}},"
          + "\"num_steps\":100000}").status());
      String plain = s.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":10}");
      assertEquals(404, s.get("/api/lr-range/" + plain).status());
    }
  }
}
