package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.server.ServerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 23's "everywhere a step goes": a run's sharpness and stability in its steps (REST, CSV, WebSocket), its
 * summary, /metrics and its log on disk (across a restart), for a built-in run and for a script's.
 */
class CurvatureIT {
  /** x² at lr 0.9: sharpness 2 everywhere, stability 0.9 (plain gradient descent: threshold 2). */
  private static final String X2 = "{\"name\":\"x2\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.9},"
      + "\"steps\":40,\"curvature_every\":4}";

  private static void finished(TestServer s, String id) throws Exception {
    MetricsIT.waitUntil(() -> "finished".equals(s.get("/api/runs/" + id).json().get("state")));
  }

  /** Every step's sharpness and stability as the steps route serves them: measured every 4th step, null between. */
  private static void assertX2Steps(Map<String, Object> steps) {
    List<Double> step = nums(steps.get("step"));
    List<?> sharpness = (List<?>) steps.get("sharpness");
    List<?> stability = (List<?>) steps.get("stability");
    assertEquals(40, step.size());
    for (int i = 0; i < step.size(); i++) {
      boolean measured = step.get(i) % 4 == 0;
      assertEquals(measured, sharpness.get(i) != null, "step " + step.get(i) + ": " + sharpness.get(i));
      assertEquals(measured, stability.get(i) != null, "step " + step.get(i) + ": " + stability.get(i));
      if (!measured) continue;
      assertEquals(2, num(sharpness.get(i)), 1e-6);
      assertEquals(0.9, num(stability.get(i)), 1e-6);
    }
  }

  private static void assertX2Summary(Map<String, Object> run) {
    Map<?, ?> c = (Map<?, ?>) run.get("curvature");
    assertNotNull(c, "the summary's curvature");
    assertEquals(40.0, num(c.get("step")));
    assertEquals(2, num(c.get("sharpness")), 1e-6);
    assertEquals(2, num(c.get("threshold")), 1e-12);
    assertEquals(0.9, num(c.get("stability")), 1e-6);
    assertEquals(Boolean.FALSE, c.get("preconditioned"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void aDivergingRunsDiagnosisQuotesItsStabilityOverTheLimit(@TempDir Path data) throws Exception {
    // x² at lr 1.1: stability 1.1, the loss ×1.44 a step
    try (TestServer s = new TestServer(ServerConfig.defaults().forTest(0).withDataDir(data))) {
      String id = s.create("{\"name\":\"x2 over\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\","
          + "\"lr\":1.1},\"steps\":60,\"curvature_every\":2}");
      finished(s, id);
      Map<String, Object> d = (Map<String, Object>) s.get("/api/runs/" + id).json().get("diagnosis");
      assertEquals("diverging", d.get("verdict"), String.valueOf(d));
      assertTrue(String.valueOf(d.get("evidence")).contains("; lr × sharpness = 1.1 × the limit: steps overshoot along the"
          + " sharpest direction; ÷10 brings it to 0.11"), String.valueOf(d.get("evidence")));
    }
  }

  @Test
  void aBuiltInRunsCurvatureIsInItsStepsSummaryCsvSocketAndMetricsAndSurvivesARestart(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String id;
    try (TestServer s = new TestServer(config); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      id = s.create(X2);
      String run = id;
      // the all-mode subscriber gets every step once, each with its curvature
      List<Double> got = new ArrayList<>();
      List<Object> sharpness = new ArrayList<>();
      while (got.size() < 40) {
        Map<String, Object> m = c.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type")), 30);
        got.addAll(nums(m.get("step")));
        sharpness.addAll((List<?>) m.get("sharpness"));
      }
      for (int i = 0; i < 40; i++) assertEquals((i + 1) % 4 == 0, sharpness.get(i) != null, "streamed step " + (i + 1));
      finished(s, id);
      assertX2Steps(s.get("/api/runs/" + id + "/steps").json());
      assertX2Summary(s.get("/api/runs/" + id).json());
      String csv = s.get("/api/runs/" + id + "/steps.csv").body();
      assertTrue(csv.startsWith("step,loss,lr,grad_norm,sharpness,stability\n"), csv);
      StringBuilder trace = new StringBuilder();
      java.io.StringWriter w = new java.io.StringWriter();
      TraceCommand.write(RunSpec.parse(X2), w, true);
      trace.append(w);
      assertEquals(trace.toString(), csv, "the export is trace --curvature's");
      String metrics = s.get("/metrics").body();
      String labels = "{name=\"x2\",optimizer=\"sgd\",problem=\"quadratic\",run=\"" + id + "\",schedule=\"constant\"}";
      assertTrue(metrics.contains("losswatch_sharpness" + labels + " 2.0"), metrics);
      assertTrue(metrics.contains("losswatch_stability" + labels + " 0.9"), metrics);
    }
    try (TestServer s = new TestServer(config)) {
      assertX2Steps(s.get("/api/runs/" + id + "/steps").json());
      assertX2Summary(s.get("/api/runs/" + id).json());
      assertTrue(s.get("/api/runs/" + id + "/steps.csv").body().startsWith("step,loss,lr,grad_norm,sharpness,stability\n"));
    }
  }

  @Test
  void aRunWithoutCurvatureHasNullColumnsNoSummaryNoSeriesAndTheFourCsvColumns() throws Exception {
    try (TestServer s = new TestServer()) {
      String id = s.create("{\"name\":\"flat\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},"
          + "\"steps\":10,\"curvature_every\":0}");
      finished(s, id);
      Map<String, Object> steps = s.get("/api/runs/" + id + "/steps").json();
      List<?> sharpness = (List<?>) steps.get("sharpness");
      assertEquals(10, sharpness.size());
      assertTrue(sharpness.stream().allMatch(x -> x == null), sharpness.toString());
      assertNull(s.get("/api/runs/" + id).json().get("curvature"));
      assertTrue(s.get("/api/runs/" + id + "/steps.csv").body().startsWith("step,loss,lr,grad_norm\n1,"));
      assertTrue(!s.get("/metrics").body().contains("losswatch_sharpness{name=\"flat\""));
    }
  }

  @Test
  void aScriptsCurvatureColumnsAreStoredAndShownAsABuiltInRunsAre(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String id;
    try (TestServer s = new TestServer(config)) {
      id = s.create("{\"source\":\"external\",\"name\":\"script\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.001}}");
      // a wrong curvature object is refused, naming the field, and stores nothing
      TestServer.Response bad = s.post("/api/runs/" + id + "/steps", "{\"step\":[1],\"loss\":[1],"
          + "\"curvature\":{\"preconditioned\":\"yes\"}}");
      assertEquals(400, bad.status(), bad.body());
      assertEquals("curvature.preconditioned", bad.json().get("field"), bad.body());
      bad = s.post("/api/runs/" + id + "/steps", "{\"step\":[1],\"loss\":[1],\"sharpness\":[1,2]}");
      assertEquals(400, bad.status(), bad.body());
      assertEquals("sharpness", bad.json().get("field"), bad.body());
      assertEquals(0.0, num(s.get("/api/runs/" + id).json().get("step")));

      TestServer.Response r = s.post("/api/runs/" + id + "/steps", "{\"step\":[1,2,3],\"loss\":[3,2,1],"
          + "\"lr\":[0.001,0.001,0.001],\"sharpness\":[null,null,3800],\"stability\":[null,null,0.1],"
          + "\"curvature\":{\"preconditioned\":true,\"threshold\":38}}");
      assertEquals(200, r.status(), r.body());
      r = s.post("/api/runs/" + id + "/steps", "{\"step\":[4,5],\"loss\":[0.9,0.8],\"lr\":[0.001,0.001]}");
      assertEquals(200, r.status(), r.body());
      Map<String, Object> steps = s.get("/api/runs/" + id + "/steps").json();
      assertEquals(java.util.Arrays.asList(null, null, 3800.0, null, null), steps.get("sharpness"));
      assertEquals(java.util.Arrays.asList(null, null, 0.1, null, null), steps.get("stability"));
      Map<?, ?> c = (Map<?, ?>) s.get("/api/runs/" + id).json().get("curvature");
      assertEquals(Map.of("step", 3.0, "sharpness", 3800.0, "threshold", 38.0, "stability", 0.1, "preconditioned", true), c);
      assertEquals("step,loss,lr,grad_norm,sharpness,stability\n1,3.0,0.001,NaN,NaN,NaN\n2,2.0,0.001,NaN,NaN,NaN\n"
          + "3,1.0,0.001,NaN,3800.0,0.1\n4,0.9,0.001,NaN,NaN,NaN\n5,0.8,0.001,NaN,NaN,NaN\n",
          s.get("/api/runs/" + id + "/steps.csv").body());
      assertTrue(s.get("/metrics").body().contains("losswatch_stability{name=\"script\",optimizer=\"adam\","
          + "problem=\"external\",run=\"" + id + "\",schedule=\"external\"} 0.1"));
    }
    try (TestServer s = new TestServer(config)) {
      // a script whose loss grows while it measures lr × sharpness at twice the limit: the evidence says so, as a
      // built-in run's does
      String grows = s.create("{\"source\":\"external\",\"name\":\"grows\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1}}");
      StringBuilder step = new StringBuilder(), loss = new StringBuilder(), lr = new StringBuilder(), st = new StringBuilder();
      for (int i = 1; i <= 80; i++) {
        String sep = i == 1 ? "" : ",";
        step.append(sep).append(i);
        loss.append(sep).append(Math.pow(1.1, i));
        lr.append(sep).append(0.1);
        st.append(sep).append(i % 10 == 0 ? "2.0" : "null");
      }
      TestServer.Response r = s.post("/api/runs/" + grows + "/steps", "{\"step\":[" + step + "],\"loss\":[" + loss
          + "],\"lr\":[" + lr + "],\"sharpness\":[" + st.toString().replace("2.0", "40") + "],\"stability\":[" + st + "]}");
      assertEquals(200, r.status(), r.body());
      Map<?, ?> d = (Map<?, ?>) s.get("/api/runs/" + grows).json().get("diagnosis");
      assertEquals("diverging", d.get("verdict"), String.valueOf(d));
      assertTrue(String.valueOf(d.get("evidence")).contains("; lr × sharpness = 2 × the limit: steps overshoot along the"
          + " sharpest direction"), String.valueOf(d));
    }
    try (TestServer s = new TestServer(config)) {   // on disk: the log's columns and run.json's curvature
      Map<String, Object> steps = s.get("/api/runs/" + id + "/steps").json();
      assertEquals(java.util.Arrays.asList(null, null, 3800.0, null, null), steps.get("sharpness"));
      assertEquals(38.0, num(((Map<?, ?>) s.get("/api/runs/" + id).json().get("curvature")).get("threshold")));
    }
  }
}
