package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.server.ServerConfig;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A guard rolls a run back past a blow-up instead of letting it die, and keeps what it undid. */
class GuardIT {
  static final String TEXTBOOK = "{\"name\":\"guarded\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":1.1},"
      + "\"steps\":400,\"guard\":{\"on\":[\"diverging\",\"non_finite\",\"spike\"],\"rewind\":50,\"lr_factor\":0.1}}";

  static Map<String, Object> ended(TestServer s, String id) throws Exception {
    MetricsIT.waitUntil(() -> !List.of("created", "running").contains(s.get("/api/runs/" + id).json().get("state")));
    return s.get("/api/runs/" + id).json();
  }

  static String trace(String spec) throws Exception {
    StringWriter w = new StringWriter();
    return TraceCommand.export(RunSpec.parse(spec));
  }

  @Test
  void theTextbookBlowUpIsRewoundAndConvergesAndNothingIsLost(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String id;
    try (TestServer s = new TestServer(config); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      id = s.create(TEXTBOOK);
      Map<String, Object> alert = c.next(m -> "alert".equals(m.get("type")) && "rewound".equals(m.get("kind")), 30);
      assertTrue(((String) alert.get("message")).contains("to step 0"), alert.toString());
      Map<String, Object> run = ended(s, id);
      assertEquals("finished", run.get("state"));
      assertEquals("converged", ((Map<?, ?>) run.get("diagnosis")).get("verdict"), run.toString());
      List<?> rewinds = (List<?>) run.get("rewinds");
      assertEquals(1, rewinds.size(), run.toString());
      Map<?, ?> r = (Map<?, ?>) rewinds.get(0);
      assertTrue(List.of("spike", "diverging").contains(r.get("why")), "x² grows ×1.44 a step: " + r);
      assertEquals(0.0, num(r.get("to")));
      assertEquals(1.1, num(r.get("lr_before")));
      assertEquals(0.11, num(r.get("lr_after")));
      long at = (long) num(r.get("at"));
      // the run as it now stands: step 1 on at lr 0.11, exactly as trace follows the same guard
      assertEquals(trace(TEXTBOOK), s.get("/api/runs/" + id + "/steps.csv").body());
      // ... and what the rewind undid, kept apart
      Map<String, Object> all = s.get("/api/runs/" + id + "/steps?from=1&to=10&abandoned=true").json();
      Map<?, ?> gone = (Map<?, ?>) ((List<?>) all.get("abandoned")).get(0);
      assertEquals(1.0, num(gone.get("rewind")));
      List<Double> goneSteps = nums(gone.get("step"));
      assertEquals(1.0, goneSteps.get(0));
      assertEquals((double) at, goneSteps.get(goneSteps.size() - 1));
      assertEquals(1.1, nums(gone.get("lr")).get(0));
      assertTrue(s.get("/metrics").body().contains("losswatch_alerts_total{kind=\"rewound\"} 1.0"));
    }
    try (TestServer s = new TestServer(config)) {   // it all survives a restart
      Map<String, Object> run = s.get("/api/runs/" + id).json();
      assertEquals(1, ((List<?>) run.get("rewinds")).size());
      assertEquals(trace(TEXTBOOK), s.get("/api/runs/" + id + "/steps.csv").body());
      assertEquals(1, ((List<?>) s.get("/api/runs/" + id + "/steps?abandoned=true").json().get("abandoned")).size());
    }
  }

  @Test
  void rosenbrockRecoversAndARunThatKeepsBlowingUpEndsDiverged() throws Exception {
    try (TestServer s = new TestServer()) {
      String rosen = s.create("{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.01},\"steps\":2000,"
          + "\"guard\":{}}");
      String hopeless = s.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":30},\"steps\":400,"
          + "\"guard\":{\"lr_factor\":0.9}}");
      Map<String, Object> r = ended(s, rosen);
      assertEquals("finished", r.get("state"));
      assertTrue(num(r.get("loss")) < 1, "it learns after the rewind: " + r.get("loss"));
      Map<String, Object> h = ended(s, hopeless);
      assertEquals("diverged", h.get("state"));
      assertEquals(3, ((List<?>) h.get("rewinds")).size(), "max_rewinds, then it ends");
    }
  }

  @Test
  void aBadGuardIsRefusedNamingTheField() throws Exception {
    try (TestServer s = new TestServer()) {
      TestServer.Response r = s.post("/api/runs", "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":1},"
          + "\"steps\":10,\"guard\":{\"on\":[\"explode\"]}}");
      assertEquals(400, r.status());
      assertTrue(r.body().contains("guard.on[0]"), r.body());
      TestServer.Response f = s.post("/api/runs", "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":1},"
          + "\"steps\":10,\"guard\":{\"lr_factor\":2}}");
      assertEquals(400, f.status());
      assertTrue(f.body().contains("guard.lr_factor"), f.body());
    }
  }
}
