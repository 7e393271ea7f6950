package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cluster.ClusterSettings;
import io.losswatch.server.ServerConfig;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two nodes of one cluster in one JVM, each a whole server: a run that node A trains is seen, streamed and
 * commanded through node B, as if it were B's own.
 */
@Timeout(180)
class InProcessClusterIT {
  private static TestServer a;
  private static TestServer b;
  private static int pa;
  private static String clusterName;

  @BeforeAll
  static void start() throws Exception {
    String name = "t-" + UUID.randomUUID();
    clusterName = name;
    pa = freePort();
    int pb = freePort();
    List<String> members = List.of("127.0.0.1:" + pa, "127.0.0.1:" + pb);
    a = new TestServer(node(name, "a", pa, members));
    b = new TestServer(node(name, "b", pb, members));
  }

  static ServerConfig node(String cluster, String node, int port, List<String> members) {
    return ServerConfig.defaults().forTest(0).toBuilder()
        .cluster(new ClusterSettings(cluster, "127.0.0.1", port, members, node).check()).build();
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (b != null) b.close();
    if (a != null) a.close();
  }

  @Test
  void aRunOnNodeAStreamsToAClientOnNodeBEveryStepExactlyOnce() throws Exception {
    String run = a.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},\"steps\":300000,"
        + "\"steps_per_second\":100000}");
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200, "node B knows node A's run");
    MetricsIT.waitUntil(() -> TestServer.num(b.get("/api/runs/" + run).json().get("step")) >= 50_000,
        "node B sees the run go on");
    try (TestServer.Client c = b.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\"}");   // joined mid-run
      long next = 1;
      while (true) {
        Map<String, Object> m = c.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type"))
            || runState(run, "finished").test(x), 60);
        if ("run".equals(m.get("type"))) break;
        for (double s : nums(m.get("step"))) assertEquals(next++, (long) s, "every step once, in order");
      }
      assertEquals(300_001, next, "every step of the run, from node B");
    }
    Map<String, Object> onB = b.get("/api/runs/" + run + "/steps?from=1&to=300000").json();
    assertEquals(300_000, nums(onB.get("step")).size(), "node B serves the history too");
  }

  @Test
  void restOnNodeBPausesChangesTheLrOfAndDeletesARunOfNodeA() throws Exception {
    String run = a.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},\"steps\":1000000,"
        + "\"steps_per_second\":1000}");
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200, "node B knows node A's run");
    TestServer.Response paused = b.post("/api/runs/" + run + "/pause", null);
    assertEquals(200, paused.status(), paused.body());
    assertEquals("paused", a.get("/api/runs/" + run).json().get("state"), "node A's run paused from node B");
    TestServer.Response lr = b.post("/api/runs/" + run + "/lr", "{\"lr\":0.01}");
    assertEquals(200, lr.status(), lr.body());
    List<?> changes = (List<?>) a.get("/api/runs/" + run).json().get("lr_changes");
    assertEquals(0.01, TestServer.num(((Map<?, ?>) changes.get(changes.size() - 1)).get("to")), 1e-15,
        "the lr set from node B");
    assertEquals(404, b.post("/api/runs/nosuchrun/pause", null).status());
    assertEquals(204, b.request("DELETE", "/api/runs/" + run, null).status());
    MetricsIT.waitUntil(() -> a.get("/api/runs/" + run).status() == 404 && b.get("/api/runs/" + run).status() == 404,
        "the run is gone from both nodes");
    assertFalse(b.get("/api/runs").body().contains(run));
    assertTrue(a.get("/health").status() == 200 && b.get("/health").status() == 200);
  }

  @Test
  void eachNodesMetricsCarryTheRunsItOwns() throws Exception {
    String run = a.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":500}");
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200
        && "finished".equals(b.get("/api/runs/" + run).json().get("state")), "node B sees node A's run finish");
    assertTrue(a.get("/metrics").body().contains("run=\"" + run + "\""), "node A exports its run");
    assertFalse(b.get("/metrics").body().contains("run=\"" + run + "\""), "node B does not: one series per run");
  }

  @Test
  void aClusterOfAnotherNameNeverMergesEvenWhenItListsTheSameMembers() throws Exception {
    int px = freePort();
    try (TestServer other = new TestServer(node("other-" + UUID.randomUUID(), "x", px,
        List.of("127.0.0.1:" + pa, "127.0.0.1:" + px)))) {
      String mine = other.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":10}");
      String theirs = a.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":10}");
      MetricsIT.waitUntil(() -> b.get("/api/runs/" + theirs).status() == 200, "the cluster itself works");
      assertEquals(404, a.get("/api/runs/" + mine).status(), "the other cluster's run is not seen");
      assertEquals(404, other.get("/api/runs/" + theirs).status(), "nor this cluster's there");
    }
  }

  /** Steps 1..n as an append's columns, with loss 1/step. */
  private static String steps(int from, int to) {
    StringBuilder st = new StringBuilder();
    StringBuilder loss = new StringBuilder();
    for (int i = from; i <= to; i++) {
      st.append(i == from ? "" : ",").append(i);
      loss.append(i == from ? "" : ",").append(1.0 / i);
    }
    return "{\"step\":[" + st + "],\"loss\":[" + loss + "]}";
  }

  @Test
  void anExternalRunWhoseNodeLeftGoesOnWithAnotherNodeWithoutASharedDataFolder() throws Exception {
    int pc = freePort();
    String run;
    try (TestServer c = new TestServer(node(clusterName, "c", pc, List.of("127.0.0.1:" + pa, "127.0.0.1:" + pc)))) {
      run = c.create("{\"source\":\"external\",\"name\":\"script\"}");
      assertEquals(200, c.post("/api/runs/" + run + "/steps", steps(1, 300)).status());
      MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200
          && TestServer.num(b.get("/api/runs/" + run).json().get("step")) == 300, "node B mirrors node C's run");
    }
    MetricsIT.waitUntil(() -> "lost".equals(b.get("/api/runs/" + run).json().get("state")), "node C left: lost");
    // the script resends from before what node B holds, and goes on: node B takes the run over
    TestServer.Response r = b.post("/api/runs/" + run + "/steps", steps(251, 400));
    assertEquals(200, r.status(), r.body());
    assertEquals(50, TestServer.num(r.json().get("duplicates")), r.body());
    Map<String, Object> h = b.get("/api/runs/" + run + "/steps").json();
    List<Double> got = nums(h.get("step"));
    assertEquals(400, got.size(), "every step once");
    for (int i = 0; i < 400; i++) assertEquals(i + 1, got.get(i).longValue());
    MetricsIT.waitUntil(() -> "running".equals(a.get("/api/runs/" + run).json().get("state")),
        "node A sees node B own it");
  }
}
