package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What comparing runs needs of the server, over real HTTP: tags and notes with a run (kept across a restart), each
 * metric at the steps that logged it, its last/lowest/highest value in the REST summary, and the export of runs'
 * histories with their configs as CSV and JSON.
 */
class CompareApiIT {
  /** An external run: its config and tags; 1000 steps, val/acc at every 50th (0.5 → 0.9, a dip to 0.1 at 500). */
  private static String create(TestServer s, String name, double lr, String schedule) throws Exception {
    String id = s.create("{\"source\":\"external\",\"name\":\"" + name + "\",\"config\":{\"lr\":" + lr + ",\"schedule\":\""
        + schedule + "\",\"batch\":64},\"optimizer\":{\"type\":\"sgd\",\"lr\":" + lr + "},\"tags\":[\"mlp\",\"" + schedule
        + "\"],\"notes\":\"lr " + lr + ", " + schedule + "\"}");
    StringBuilder step = new StringBuilder();
    StringBuilder loss = new StringBuilder();
    StringBuilder acc = new StringBuilder();
    for (int k = 1; k <= 1000; k++) {
      String sep = k > 1 ? "," : "";
      step.append(sep).append(k);
      loss.append(sep).append(1.0 / k);
      acc.append(sep).append(k % 50 != 0 ? "null" : k == 500 ? "0.1" : String.valueOf(0.5 + 0.4 * k / 1000.0 * lr * 10));
    }
    TestServer.Response r = s.post("/api/runs/" + id + "/steps", "{\"step\":[" + step + "],\"loss\":[" + loss
        + "],\"metrics\":{\"val/acc\":[" + acc + "]}}");
    assertEquals(200, r.status(), r.body());
    return id;
  }

  @Test
  @SuppressWarnings("unchecked")
  void tagsNotesAndMetricStatsAreInTheSummaryAndSurviveARestart(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String ext;
    String builtin;
    try (TestServer s = new TestServer(config)) {
      ext = create(s, "a", 0.1, "cosine");
      builtin = s.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":20,"
          + "\"tags\":[\"built-in\"],\"notes\":\"from the API\"}");
      Map<String, Object> e = s.get("/api/runs/" + ext).json();
      assertEquals(List.of("mlp", "cosine"), e.get("tags"));
      assertEquals("lr 0.1, cosine", e.get("notes"));
      Map<String, Object> acc = (Map<String, Object>) ((Map<String, Object>) e.get("metrics")).get("val/acc");
      assertEquals(1000.0, TestServer.num(acc.get("step")));
      assertEquals(0.9, TestServer.num(acc.get("last")), 1e-12);
      assertEquals(0.1, TestServer.num(acc.get("min")));
      assertEquals(0.9, TestServer.num(acc.get("max")), 1e-12);
      Map<String, Object> b = s.get("/api/runs/" + builtin).json();
      assertEquals(List.of("built-in"), b.get("tags"));
      assertEquals(Map.of(), b.get("metrics"), "a built-in run logs no extra scalars");
      // refused: named
      TestServer.Response bad = s.post("/api/runs", "{\"source\":\"external\",\"tags\":[\"ok\",7]}");
      assertEquals(400, bad.status());
      assertEquals("tags[1]", bad.json().get("field"), bad.body());
      s.post("/api/runs/" + ext + "/finish", "{\"state\":\"finished\"}");
      MetricsIT.waitUntil(() -> "finished".equals(s.get("/api/runs/" + builtin).json().get("state")));
    }
    try (TestServer s = new TestServer(config)) {
      Map<String, Object> e = s.get("/api/runs/" + ext).json();
      assertEquals(List.of("mlp", "cosine"), e.get("tags"), "kept in run.json");
      assertEquals("lr 0.1, cosine", e.get("notes"));
      Map<String, Object> acc = (Map<String, Object>) ((Map<String, Object>) e.get("metrics")).get("val/acc");
      assertEquals(0.1, TestServer.num(acc.get("min")), "read back from the disk");
      assertEquals(0.9, TestServer.num(acc.get("last")), 1e-12);
      List<Object> all = s.get("/api/runs").list();
      assertTrue(all.stream().anyMatch(o -> ((Map<String, Object>) o).get("metrics") instanceof Map<?, ?> m && m.containsKey("val/acc")),
          "the list carries them too");
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void aMetricLoggedNowAndThenKeepsEveryPoint() throws Exception {
    try (TestServer s = new TestServer()) {
      String id = create(s, "sparse", 0.1, "step");
      Map<String, Object> all = s.get("/api/runs/" + id + "/metrics").json();
      assertEquals(1000.0, TestServer.num(all.get("last_step")));
      Map<String, Object> acc = (Map<String, Object>) ((Map<String, Object>) all.get("metrics")).get("val/acc");
      List<Double> steps = TestServer.nums(acc.get("step"));
      assertEquals(20, steps.size(), "every 50th of 1000 steps");
      assertEquals(50.0, steps.get(0));
      assertEquals(0.1, TestServer.nums(acc.get("value")).get(steps.indexOf(500.0)));
      assertEquals(20, TestServer.nums(acc.get("t")).size());
      // the downsampled steps keep a few of them; this keeps all
      Map<String, Object> down = s.get("/api/runs/" + id + "/steps?max_points=40").json();
      long logged = TestServer.nums(((Map<String, Object>) down.get("metrics")).get("val/acc")).stream().filter(v -> !v.isNaN()).count();
      assertTrue(logged < 20, "downsampled by the loss: " + logged + " of 20");
      Map<String, Object> later = s.get("/api/runs/" + id + "/metrics?from=901").json();
      assertEquals(List.of(950.0, 1000.0), TestServer.nums(((Map<String, Object>) ((Map<String, Object>) later.get("metrics"))
          .get("val/acc")).get("step")));
      Map<String, Object> thin = s.get("/api/runs/" + id + "/metrics?max_points=8").json();
      List<Double> kept = TestServer.nums(((Map<String, Object>) ((Map<String, Object>) thin.get("metrics")).get("val/acc")).get("step"));
      assertTrue(kept.size() <= 8 && kept.contains(500.0) && kept.contains(1000.0), "thinned, the dip and the last kept: " + kept);
      assertEquals(404, s.get("/api/runs/nosuchrun/metrics").status());
      TestServer.Response bad = s.get("/api/runs/" + id + "/metrics?from=10&to=5");
      assertEquals(400, bad.status());
      assertEquals("to", bad.json().get("field"));
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void runsExportAsCsvAndJsonWithTheirConfigs() throws Exception {
    try (TestServer s = new TestServer()) {
      String a = create(s, "a, with a comma", 0.1, "cosine");
      String b = create(s, "b", 0.01, "step");
      TestServer.Response csv = s.get("/api/export?format=csv&runs=" + a + "," + b);
      assertEquals(200, csv.status(), csv.body());
      assertTrue(csv.contentType().startsWith("text/csv"), csv.contentType());
      List<List<String>> rows = parseCsv(csv.body());
      List<String> head = rows.get(0);
      assertEquals(List.of("run", "name", "tags", "notes"), head.subList(0, 4));
      assertTrue(head.containsAll(List.of("config.lr", "config.schedule", "config.batch", "optimizer.lr", "optimizer.type",
          "step", "loss", "lr", "grad_norm", "t", "val/acc")), head.toString());
      assertEquals(1 + 2000, rows.size(), "a row per step of each run");
      List<String> first = rows.get(1);
      assertEquals(a, first.get(0));
      assertEquals("a, with a comma", first.get(1), "quoted");
      assertEquals("mlp;cosine", first.get(2));
      assertEquals("0.1", first.get(head.indexOf("config.lr")));
      assertEquals("cosine", first.get(head.indexOf("config.schedule")));
      assertEquals("1", first.get(head.indexOf("step")));
      assertEquals("", first.get(head.indexOf("val/acc")), "not logged at step 1");
      List<String> fiftieth = rows.get(50);
      assertEquals(0.5 + 0.4 * 50 / 1000.0, Double.parseDouble(fiftieth.get(head.indexOf("val/acc"))), 1e-15);
      assertEquals(1.0 / 50, Double.parseDouble(fiftieth.get(head.indexOf("loss"))), "exact: round-trip digits");
      assertEquals(b, rows.get(1001).get(0));
      assertEquals("step", rows.get(1001).get(head.indexOf("config.schedule")));

      TestServer.Response json = s.get("/api/export?runs=" + b);
      assertEquals(200, json.status(), json.body());
      List<Object> runs = (List<Object>) json.json().get("runs");
      assertEquals(1, runs.size());
      Map<String, Object> r = (Map<String, Object>) runs.get(0);
      assertEquals(b, ((Map<String, Object>) r.get("summary")).get("id"));
      assertEquals(List.of("mlp", "step"), ((Map<String, Object>) r.get("summary")).get("tags"));
      List<Object> columns = (List<Object>) r.get("columns");
      assertEquals(List.of("step", "loss", "lr", "grad_norm", "t", "val/acc"), columns);
      List<Object> steps = (List<Object>) r.get("rows");
      assertEquals(1000, steps.size());
      List<Object> row50 = (List<Object>) steps.get(49);
      assertEquals(50.0, TestServer.num(row50.get(0)));
      assertEquals(1.0 / 50, TestServer.num(row50.get(1)));
      assertEquals("NaN", ((List<Object>) steps.get(0)).get(5), "not logged: NaN, as JSON has no such number");

      assertEquals(2, ((List<Object>) s.get("/api/export").json().get("runs")).size(), "every run by default");
      TestServer.Response none = s.get("/api/export?runs=" + a + ",nosuchrun");
      assertEquals(404, none.status());
      assertTrue(none.json().get("error").toString().contains("nosuchrun"), none.body());
      TestServer.Response fmt = s.get("/api/export?format=xlsx");
      assertEquals(400, fmt.status());
      assertEquals("format", fmt.json().get("field"));
      assertEquals(200, s.get("/health").status(), "the server goes on");
    }
  }

  /**
   * PATCH sets tags and notes on a run in any state: live (its verticle says so), ended, after a restart; the page's
   * stream, run.json and /metrics follow; what it cannot take is refused, naming the field, and changes nothing.
   */
  @Test
  @SuppressWarnings("unchecked")
  void aPatchSetsTagsAndNotesInAnyState(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String going;
    String done;
    try (TestServer s = new TestServer(config); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"]}");
      going = s.create("{\"name\":\"going\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
          + "\"steps\":1000000,\"steps_per_second\":50}");
      done = create(s, "done", 0.1, "cosine");
      s.post("/api/runs/" + done + "/finish", "{\"state\":\"finished\"}");
      c.next(TestServer.runState(done, "finished"), 30);

      TestServer.Response r = s.request("PATCH", "/api/runs/" + going, "{\"tags\":[\"live\",\"keep\"],\"notes\":\"still going\"}");
      assertEquals(200, r.status(), r.body());
      assertEquals(List.of("live", "keep"), r.json().get("tags"));
      assertEquals("running", r.json().get("state"));
      c.next(m -> "run".equals(m.get("type")) && going.equals(((Map<String, Object>) m.get("run")).get("id"))
          && List.of("live", "keep").equals(((Map<String, Object>) m.get("run")).get("tags")), 30);
      // a later summary of the live run keeps them
      s.post("/api/runs/" + going + "/pause", null);
      Map<String, Object> paused = c.next(TestServer.runState(going, "paused"), 30);
      assertEquals(List.of("live", "keep"), ((Map<String, Object>) paused.get("run")).get("tags"));

      r = s.request("PATCH", "/api/runs/" + done, "{\"notes\":\"the best so far\"}");
      assertEquals(200, r.status(), r.body());
      assertEquals(List.of("mlp", "cosine"), r.json().get("tags"), "only the notes changed");
      assertEquals("the best so far", r.json().get("notes"));
      assertEquals("finished", r.json().get("state"));
      MetricsIT.waitUntil(() -> s.get("/metrics").body().lines().anyMatch(l -> l.startsWith("losswatch_run_info{")
          && l.contains("run=\"" + going + "\"") && l.contains("tags=\"live,keep\"")));

      for (String[] bad : new String[][] {{"{\"tags\":\"x\"}", "tags"}, {"{\"tags\":[\"\"]}", "tags[0]"},
          {"{\"name\":\"renamed\"}", "name"}, {"{}", ""}, {"{\"notes\":7}", "notes"}}) {
        TestServer.Response no = s.request("PATCH", "/api/runs/" + done, bad[0]);
        assertEquals(400, no.status(), bad[0] + " → " + no.body());
        assertEquals(bad[1], no.json().getOrDefault("field", ""), bad[0] + " → " + no.body());
      }
      assertEquals("the best so far", s.get("/api/runs/" + done).json().get("notes"), "a refused change changes nothing");
      assertEquals(404, s.request("PATCH", "/api/runs/nosuchrun", "{\"tags\":[]}").status());
    }
    try (TestServer s = new TestServer(config)) {
      Map<String, Object> d = s.get("/api/runs/" + done).json();
      assertEquals("the best so far", d.get("notes"), "kept in run.json");
      assertEquals(List.of("live", "keep"), s.get("/api/runs/" + going).json().get("tags"));
      TestServer.Response r = s.request("PATCH", "/api/runs/" + going, "{\"tags\":[]}");
      assertEquals(200, r.status(), r.body());
      assertEquals("interrupted", r.json().get("state"), "a run a restart cut off takes them too");
      assertEquals(List.of(), r.json().get("tags"));
    }
  }

  /** RFC 4180: commas and quotes inside quotes, doubled quotes. */
  static List<List<String>> parseCsv(String text) {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder f = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') { f.append('"'); i++; }
        else if (c == '"') quoted = false;
        else f.append(c);
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        row.add(f.toString());
        f.setLength(0);
      } else if (c == '\n') {
        row.add(f.toString());
        f.setLength(0);
        rows.add(row);
        row = new ArrayList<>();
      } else {
        f.append(c);
      }
    }
    return rows;
  }
}
