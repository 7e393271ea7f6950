package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What-if branches: a new run from a run's exact state at a step, with the lr changed or not. */
class BranchIT {
  /** Paced so that the tests pause it (at step 300 or 400) seconds before it would end, however busy the machine. */
  static final String SPEC = "{\"name\":\"parent\",\"problem\":{\"type\":\"mlp\",\"hidden\":8,\"batch_size\":32},"
      + "\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1,\"momentum\":0.9},\"schedule\":{\"type\":\"cosine\",\"T_max\":3000},"
      + "\"steps\":3000,\"steps_per_second\":300}";

  /** The rows of a run's steps.csv after its header. */
  static List<String> rows(TestServer s, String id) throws Exception {
    List<String> all = Arrays.asList(s.get("/api/runs/" + id + "/steps.csv").body().split("\n"));
    return all.subList(1, all.size());
  }

  static void assertSameRows(List<String> want, List<String> got, String what) {
    for (int i = 0; i < Math.min(want.size(), got.size()); i++) assertEquals(want.get(i), got.get(i), what + ", row " + i);
    assertEquals(want.size(), got.size(), what + ": rows");
  }

  static void finished(TestServer s, String id) throws Exception {
    MetricsIT.waitUntil(() -> "finished".equals(s.get("/api/runs/" + id).json().get("state")));
  }

  @Test
  void aBranchWithFactorOneContinuesItsParentBitForBitFromNowOrFromAnEarlierStep() throws Exception {
    try (TestServer s = new TestServer(); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      String parent = s.create(SPEC);
      c.next(m -> "steps".equals(m.get("type")) || "frame".equals(m.get("type")), 10);
      MetricsIT.waitUntil(() -> num(s.get("/api/runs/" + parent).json().get("step")) >= 400);
      Map<String, Object> paused = s.post("/api/runs/" + parent + "/pause", "").json();
      long k = (long) num(paused.get("step"));

      TestServer.Response now = s.post("/api/runs/" + parent + "/branch", "");
      assertEquals(201, now.status(), now.body());
      Map<String, Object> child = now.json();
      assertEquals(parent, child.get("parent"));
      assertEquals((double) k, num(child.get("branched_at")));
      assertEquals("parent ×1 from step " + k, child.get("name"));
      TestServer.Response back = s.post("/api/runs/" + parent + "/branch", "{\"at_step\":" + (k - 250) + ",\"name\":\"back\"}");
      assertEquals(201, back.status(), back.body());
      assertEquals(201, s.post("/api/runs/" + parent + "/branch", "{\"lr_factor\":0.1}").status());

      assertEquals(200, s.post("/api/runs/" + parent + "/resume", "").status());
      String a = (String) child.get("id");
      String b = (String) back.json().get("id");
      finished(s, parent);
      finished(s, a);
      finished(s, b);
      List<String> whole = rows(s, parent);
      List<String> fromNow = rows(s, a);
      assertTrue(fromNow.get(0).startsWith((k + 1) + ","), "the branch's history starts after step " + k + ": " + fromNow.get(0));
      assertSameRows(whole.subList((int) k, whole.size()), fromNow, "×1 from now: the parent's own steps");
      assertSameRows(whole.subList((int) k - 250, whole.size()), rows(s, b), "×1 from 250 steps back, replayed");
    }
  }

  @Test
  void aBranchScalesTheSchedulesLrAndSaysWhy() throws Exception {
    try (TestServer s = new TestServer(); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      String parent = s.create(SPEC.replace("\"steps_per_second\":300", "\"steps_per_second\":0"));
      finished(s, parent);
      // a finished run branches from its last checkpoint: its end leaves nothing to run
      TestServer.Response end = s.post("/api/runs/" + parent + "/branch", "{}");
      assertEquals(409, end.status(), end.body());
      assertTrue(end.body().contains("no steps left"), end.body());
    }
    try (TestServer s = new TestServer(); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      String parent = s.create(SPEC);
      MetricsIT.waitUntil(() -> num(s.get("/api/runs/" + parent).json().get("step")) >= 300);
      long k = (long) num(s.post("/api/runs/" + parent + "/pause", "").json().get("step"));
      Map<String, Object> child = s.post("/api/runs/" + parent + "/branch", "{\"lr_factor\":10}").json();
      String id = (String) child.get("id");
      Map<?, ?> change = (Map<?, ?>) ((List<?>) child.get("lr_changes")).get(0);
      assertEquals("branch", change.get("cause"));
      assertEquals((double) k + 1, num(change.get("step")));
      assertEquals(200, s.post("/api/runs/" + parent + "/resume", "").status());
      finished(s, parent);
      finished(s, id);
      List<String> p = rows(s, parent);
      List<String> q = rows(s, id);
      for (int i = 0; i < q.size(); i++) {
        double lrParent = Double.parseDouble(p.get((int) k + i).split(",")[2]);
        double lrChild = Double.parseDouble(q.get(i).split(",")[2]);
        assertEquals(lrParent * 10, lrChild, lrParent * 1e-9, "step " + (k + 1 + i) + ": the cosine schedule, ×10");
      }
    }
  }

  @Test
  void badBranchesAreRefusedClearly() throws Exception {
    try (TestServer s = new TestServer()) {
      String parent = s.create(SPEC);
      assertEquals(400, s.post("/api/runs/" + parent + "/branch", "{\"lr_factor\":-1}").status());
      TestServer.Response both = s.post("/api/runs/" + parent + "/branch", "{\"lr_factor\":2,\"lr\":0.1}");
      assertEquals(400, both.status());
      assertTrue(both.body().contains("not both"), both.body());
      TestServer.Response typo = s.post("/api/runs/" + parent + "/branch", "{\"at\":3}");
      assertEquals(400, typo.status());
      assertTrue(typo.body().contains("at"), typo.body());
      TestServer.Response ahead = s.post("/api/runs/" + parent + "/branch", "{\"at_step\":1000000}");
      assertEquals(409, ahead.status(), ahead.body());
      assertEquals(404, s.post("/api/runs/nosuch/branch", "{}").status());
      String ext = s.create("{\"source\":\"external\",\"name\":\"script\"}");
      assertEquals(409, s.post("/api/runs/" + ext + "/branch", "{}").status());
    }
  }
}
