package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static io.losswatch.web.TestServer.runState;
import static io.losswatch.web.TestServer.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import io.vertx.core.http.HttpServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The diagnosis as clients see it: in summaries, as alerts, in /metrics, at the webhook, and applied. */
class DiagnosisApiIT {
  private static String textbook(String lr, String extra) {
    return "{\"name\":\"lr=" + lr + "\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":" + lr + "},"
        + "\"steps\":100000,\"steps_per_second\":200" + extra + "}";
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> diagnosis(Map<String, Object> summary) {
    return (Map<String, Object>) summary.get("diagnosis");
  }

  @Test
  void textbookVerdictsAlertsAdviceAndMetrics() throws Exception {
    List<String> hooked = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    try (TestServer probe = new TestServer()) {
      // a webhook receiver that fails its first call, to see the retry
      HttpServer receiver = TestServer.await(probe.clientVertx.createHttpServer().requestHandler(req -> req.body()
          .onSuccess(body -> {
            if (calls.incrementAndGet() == 1) {
              req.response().setStatusCode(503).end();
            } else {
              hooked.add(body.toString());
              req.response().setStatusCode(204).end();
            }
          })).listen(0, "127.0.0.1"));
      String hook = "http://127.0.0.1:" + receiver.actualPort() + "/alerts";
      try (TestServer server = new TestServer(ServerConfig.defaults().forTest(0).withAlertWebhook(hook));
           TestServer.Client c = server.client()) {
        c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
        String slow = server.create(textbook("0.001", ""));
        String right = server.create(textbook("0.1", ""));
        // x ← −x: at lr 1 the updates flip for ever (at lr 0.9 x² still reaches its floor, and is converged there)
        String bouncy = server.create(textbook("1.0", ""));
        String wild = server.create(textbook("1.1", ""));

        Map<String, Object> alert = c.next(m -> "alert".equals(m.get("type")) && wild.equals(m.get("run")), 30);
        assertEquals("diverging", alert.get("kind"));
        assertEquals(0.11, num(alert.get("suggested_lr")));
        assertTrue(((String) alert.get("message")).contains("lr=1.1"), (String) alert.get("message"));
        assertTrue(num(alert.get("step")) > 0);

        MetricsIT.waitUntil(() -> "too_slow".equals(diagnosis(server.get("/api/runs/" + slow).json()).get("verdict")));
        MetricsIT.waitUntil(() -> "oscillating".equals(diagnosis(server.get("/api/runs/" + bouncy).json()).get("verdict")));
        Map<String, Object> d = diagnosis(server.get("/api/runs/" + wild).json());
        assertEquals("diverging", d.get("verdict"));
        assertEquals(0.11, num(d.get("suggested_lr")));
        assertTrue(((String) d.get("advice")).contains("÷10"));
        Map<String, Object> flips = diagnosis(server.get("/api/runs/" + bouncy).json());
        assertEquals(0.1, num(flips.get("suggested_lr")));
        assertTrue(((String) flips.get("evidence")).contains("mean cosine -1 < -0."), (String) flips.get("evidence"));
        Map<String, Object> s = diagnosis(server.get("/api/runs/" + slow).json());
        assertEquals(0.01, num(s.get("suggested_lr")));
        assertTrue(num(s.get("since_step")) > 0 && s.get("evidence") instanceof String);
        String v = (String) diagnosis(server.get("/api/runs/" + right).json()).get("verdict");
        assertTrue(v.equals("converging") || v.equals("converged"), v);

        // one click: the suggested lr is applied from the next step on, and recorded
        Map<String, Object> applied = server.post("/api/runs/" + slow + "/apply-advice", "").json();
        List<?> changes = (List<?>) applied.get("lr_changes");
        Map<?, ?> change = (Map<?, ?>) changes.get(changes.size() - 1);
        assertEquals("advice", change.get("cause"));
        assertEquals(0.01, num(change.get("to")));
        assertEquals(0.001, num(change.get("from")));
        double from = num(change.get("step"));
        Map<String, Object> steps = c.next(m -> "steps".equals(m.get("type")) && slow.equals(m.get("run"))
            && TestServer.nums(m.get("step")).get(0) >= from, 10);
        assertEquals(0.01, TestServer.nums(steps.get("lr")).get(0));
        TestServer.Response none = server.post("/api/runs/" + right + "/apply-advice", "");
        assertEquals(409, none.status(), "converging: nothing to apply");
        assertTrue(((String) none.json().get("error")).contains("no advice"));

        String metrics = server.get("/metrics").body();
        assertTrue(metrics.contains("losswatch_run_diagnosis{name=\"lr=1.1\"") && metrics.contains("verdict=\"diverging\""),
            "the verdict is in /metrics");
        List<MetricsIT.Sample> samples = MetricsIT.parse(metrics);
        assertEquals(1, samples.stream().filter(x -> x.name().equals("losswatch_run_diagnosis")
            && wild.equals(x.labels().get("run"))).count(), "one verdict series per run");
        assertTrue(samples.stream().anyMatch(x -> x.name().equals("losswatch_alerts_total")
            && "diverging".equals(x.labels().get("kind")) && x.value() >= 1));

        MetricsIT.waitUntil(() -> hooked.stream().anyMatch(b -> b.contains("\"kind\":\"diverging\"")
            && b.contains(wild)));
        assertTrue(calls.get() >= 2, "retried after the 503");
        String body = hooked.stream().filter(b -> b.contains(wild)).findFirst().orElseThrow();
        assertTrue(body.contains("\"suggested_lr\":0.11") && body.contains("\"id\":\"" + wild + ":diverging:"), body);
        assertEquals(1, hooked.stream().filter(b -> b.contains(wild) && b.contains("diverging")).count(),
            "delivered once");
      }
    }
  }

  @Test
  void autoLrAppliesTheAdviceByItselfAndRecordsIt() throws Exception {
    try (TestServer server = new TestServer(); TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      String id = server.create(textbook("0.001", ",\"auto_lr\":true"));
      Map<String, Object> m = c.next(x -> "run".equals(x.get("type")) && x.get("run") instanceof Map<?, ?> r
          && id.equals(r.get("id")) && !((List<?>) r.get("lr_changes")).isEmpty(), 30);
      Map<?, ?> change = (Map<?, ?>) ((List<?>) ((Map<?, ?>) m.get("run")).get("lr_changes")).get(0);
      assertEquals("auto", change.get("cause"));
      assertEquals(0.01, num(change.get("to")));
      c.next(type("steps"), 10);
      assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
    }
  }

  @Test
  void aSpecsTraceEqualsItsLiveRunUnderAutoLr() throws Exception {
    // auto_lr raises this run once, after a look-ahead: the trace must follow it at the same step
    String spec = "{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.0001},\"steps\":1500,"
        + "\"auto_lr\":true}";
    java.io.StringWriter trace = new java.io.StringWriter();
    trace.write(io.losswatch.cli.TraceCommand.export(io.losswatch.core.RunSpec.parse(spec)));
    try (TestServer server = new TestServer(); TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      String id = server.create(spec);
      Map<String, Object> done = c.next(m -> "run".equals(m.get("type")) && m.get("run") instanceof Map<?, ?> r
          && id.equals(r.get("id")) && "finished".equals(r.get("state")), 60);
      List<?> changes = (List<?>) ((Map<?, ?>) done.get("run")).get("lr_changes");
      assertTrue(!changes.isEmpty(), "auto_lr changed the lr: " + done);
      assertEquals(trace.toString(), server.get("/api/runs/" + id + "/steps.csv").body());
    }
  }

  private static long overflowSteps(Map<String, Object> d) {
    return Long.parseLong(((String) d.get("advice")).replaceAll(".*about (\\d+) steps.*", "$1"));
  }

  @Test
  void theAdviceFollowsTheRunWithoutNewAlertsAndEndsWithIt() throws Exception {
    try (TestServer server = new TestServer(); TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      String wild = server.create(textbook("1.1", ""));
      AtomicInteger alerts = new AtomicInteger();
      java.util.function.Predicate<Map<String, Object>> counting = m -> {
        if ("alert".equals(m.get("type")) && wild.equals(m.get("run"))) alerts.incrementAndGet();
        return false;
      };
      java.util.function.Predicate<Map<String, Object>> diverging = m -> "run".equals(m.get("type"))
          && m.get("run") instanceof Map<?, ?> r && wild.equals(r.get("id"))
          && "diverging".equals(diagnosis(runOf(m)).get("verdict"));
      Map<String, Object> first = diagnosis(runOf(c.next(m -> counting.test(m) || diverging.test(m), 30)));
      long since = (long) num(first.get("since_step"));
      long left = overflowSteps(first);
      // the same verdict, told again with the steps left as they are now: the estimate counts down
      Map<String, Object> later = diagnosis(runOf(c.next(m -> counting.test(m) || diverging.test(m)
          && overflowSteps(diagnosis(runOf(m))) < left - 40, 30)));
      assertEquals(since, (long) num(later.get("since_step")), "the same verdict");
      assertEquals(0.11, num(later.get("suggested_lr")));
      // over the next 400 steps (2 s at 200 steps/s) it is refreshed every 20, yet told at most once a second
      AtomicInteger refreshes = new AtomicInteger();
      long from = overflowSteps(later);
      c.next(m -> counting.test(m) || diverging.test(m) && refreshes.incrementAndGet() > 0
          && overflowSteps(diagnosis(runOf(m))) <= from - 400, 30);
      assertTrue(refreshes.get() <= 4, "told " + refreshes.get() + " times in 2 s");
      assertEquals(1, alerts.get(), "one alert: a refreshed text raises none");

      // stopped: the verdict stays, the advice says it ended, there is nothing to apply
      assertEquals("stopped", server.post("/api/runs/" + wild + "/stop", "").json().get("state"));
      Map<String, Object> s = server.get("/api/runs/" + wild).json();
      Map<String, Object> d = diagnosis(s);
      assertEquals("diverging", d.get("verdict"));
      assertEquals(since, (long) num(d.get("since_step")));
      assertEquals(null, d.get("suggested_lr"), "no advice for a run that cannot change");
      assertEquals(0.11, num(d.get("retry_lr")));
      assertEquals("the run ended at step " + (long) num(s.get("step")) + " (stopped); to try again, start a new run"
          + " with lr 0.11", d.get("advice"));
      assertEquals(409, server.post("/api/runs/" + wild + "/apply-advice", "").status());
      Map<String, Object> told = runOf(c.next(runState(wild, "stopped"), 10));
      assertEquals(d.get("advice"), diagnosis(told).get("advice"), "told to subscribers too");
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> runOf(Map<String, Object> message) {
    return (Map<String, Object>) message.get("run");
  }

  @Test
  void afterARestartVerdictsAreRebuiltFromTheHistory(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String done;
    String slow;
    String script;
    try (TestServer server = new TestServer(config); TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"]}");
      done = server.create("{\"name\":\"wild\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":1.1},"
          + "\"steps\":300}");
      slow = server.create(textbook("0.001", ""));
      script = server.create("{\"source\":\"external\",\"name\":\"script\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001}}");
      StringBuilder steps = new StringBuilder("{\"step\":[");
      StringBuilder loss = new StringBuilder("],\"loss\":[");
      StringBuilder lr = new StringBuilder("],\"lr\":[");
      StringBuilder grad = new StringBuilder("],\"grad_norm\":[");
      // creeping ×0.9995 a step while the gradient is not small: too slow, with a decade to climb before a step takes
      // 1% of the loss (a script's too_slow needs that evidence: its steps promise lr × grad norm² = 0.00025)
      for (int i = 1; i <= 300; i++) {
        String sep = i == 1 ? "" : ",";
        steps.append(sep).append(i);
        loss.append(sep).append(Math.pow(0.9995, i));
        lr.append(sep).append(0.001);
        grad.append(sep).append(0.5);
      }
      // (a script's too_slow is advised once it has held 200 steps: its advice can't be checked by look-ahead)
      assertEquals(200, server.post("/api/runs/" + script + "/steps", steps.append(loss).append(lr).append(grad)
          .append("]}").toString()).status());
      assertEquals("too_slow", diagnosis(server.get("/api/runs/" + script).json()).get("verdict"));
      c.next(runState(done, "finished"), 30);
      MetricsIT.waitUntil(() -> "too_slow".equals(diagnosis(server.get("/api/runs/" + slow).json()).get("verdict")));
      MetricsIT.waitUntil(() -> java.nio.file.Files.size(data.resolve("runs").resolve(done).resolve("loss.f64")) == 300L * 8);
    }
    try (TestServer server = new TestServer(config)) {
      Map<String, Object> d = diagnosis(server.get("/api/runs/" + done).json());
      assertEquals("diverging", d.get("verdict"), "rebuilt, not unknown: " + d);
      assertEquals(null, d.get("suggested_lr"));
      assertEquals(0.11, num(d.get("retry_lr")));
      assertTrue(((String) d.get("advice")).startsWith("the run ended at step 300 (finished)"), (String) d.get("advice"));

      Map<String, Object> s = diagnosis(server.get("/api/runs/" + slow).json());
      assertEquals("too_slow", s.get("verdict"), "rebuilt: " + s);
      assertEquals(null, s.get("suggested_lr"), "cut off by the restart: it cannot go on");
      assertEquals(0.01, num(s.get("retry_lr")));
      assertTrue(((String) s.get("advice")).contains("interrupted the run at step"), (String) s.get("advice"));

      // a script's run may come back: it keeps its advice, and its diagnosis goes on from the replayed steps
      Map<String, Object> x = diagnosis(server.get("/api/runs/" + script).json());
      assertEquals("too_slow", x.get("verdict"), "rebuilt: " + x);
      assertEquals(0.01, num(x.get("suggested_lr")));
      assertEquals(200, server.post("/api/runs/" + script + "/steps", "{\"step\":[301],\"loss\":[" + Math.pow(0.9995, 301)
          + "],\"lr\":[0.001],\"grad_norm\":[0.5]}").status());
      Map<String, Object> on = server.get("/api/runs/" + script).json();
      assertEquals("running", on.get("state"));
      assertEquals("too_slow", diagnosis(on).get("verdict"), "not unknown again: " + diagnosis(on));
    }
  }
}
