package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cluster.ClusterSecret;
import io.losswatch.cluster.ClusterSettings;
import io.losswatch.server.ServerConfig;
import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import io.losswatch.event.Codecs;
import io.losswatch.event.Events;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.internal.VertxInternal;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two nodes of one cluster in one JVM, each a whole server: a run that node A trains is seen, streamed and
 * commanded through node B, as if it were B's own; and nothing without the cluster's secret joins, reads or
 * commands (issue 19.19).
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

  /** The secret of the cluster under test, and another one. */
  static final ClusterSecret SECRET = ClusterSecret.of("cluster-test-secret-" + UUID.randomUUID(), "test");
  static final ClusterSecret WRONG = ClusterSecret.of("another-secret-" + UUID.randomUUID(), "test");

  static ServerConfig node(String cluster, String node, int port, List<String> members) {
    return node(cluster, node, port, members, SECRET);
  }

  static ServerConfig node(String cluster, String node, int port, List<String> members, ClusterSecret secret) {
    return ServerConfig.defaults().forTest(0).toBuilder()
        .cluster(settings(cluster, node, port, members, secret)).build();
  }

  static ClusterSettings settings(String cluster, String node, int port, List<String> members, ClusterSecret secret) {
    return new ClusterSettings(cluster, "127.0.0.1", port, members, node, secret).check();
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
    String run = here(a, "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},\"steps\":300000,"
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
    Map<String, Object> onB = b.get("/api/runs/" + run + "/steps?from=200001&to=300000").json();
    assertEquals(100_000, nums(onB.get("step")).size(), "node B serves the history too (read from A)");
  }

  /**
   * A binary subscriber on node B to a run node A trains with its curvature measured: in all mode every step once, in
   * order, joined mid-run (the history read from A, then the batches A sends while B follows), each with its
   * sharpness and stability where measured and NaN between; in live mode frames whose buckets keep their last
   * measurement, as a client of node A gets them.
   */
  @Test
  void aBinarySubscriberOnNodeBGetsNodeAsRunsStepsWithTheirCurvature() throws Exception {
    // x² at lr 0.9: sharpness 2, stability 0.9, measured every 10th step
    String run = here(a, "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.9},\"steps\":30000,"
        + "\"steps_per_second\":3000,\"curvature_every\":10}");
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200
        && TestServer.num(b.get("/api/runs/" + run).json().get("step")) >= 3000, "node B sees node A's run go on");
    try (BinaryStreamIT.Client all = new BinaryStreamIT.Client(b); BinaryStreamIT.Client live = new BinaryStreamIT.Client(b)) {
      all.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\",\"format\":\"binary\"}");
      live.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"max_hz\":20,\"format\":\"binary\"}");
      long next = 1;
      while (true) {
        Object m = all.next(60);
        if (m instanceof Map<?, ?> x && "run".equals(x.get("type")) && x.get("run") instanceof Map<?, ?> r
            && run.equals(r.get("id")) && "finished".equals(r.get("state"))) {
          assertEquals(TestServer.num(r.get("step")), next - 1, "the run finished after its last step, which came");
          break;
        }
        if (!(m instanceof BinaryMessage x)) continue;   // its summaries
        assertEquals(BinaryWire.STEPS, x.type());
        for (BinaryMessage.Block k : x.blocks()) {
          assertEquals(run, k.run());
          double[] sharpness = k.metrics().get("sharpness");
          double[] stability = k.metrics().get("stability");
          for (int i = 0; i < k.step().length; i++) {
            long step = k.step()[i];
            assertEquals(next++, step, "every step once, in order");
            boolean measured = step % 10 == 0;
            // a message without a measured step may leave the columns out (NaN throughout)
            double sh = sharpness == null ? Double.NaN : sharpness[i];
            double st = stability == null ? Double.NaN : stability[i];
            assertEquals(measured, !Double.isNaN(sh), "step " + step + "'s sharpness: " + sh);
            assertEquals(measured, !Double.isNaN(st), "step " + step + "'s stability: " + st);
            if (measured) {
              assertEquals(2, sh, 1e-6, "step " + step);
              assertEquals(0.9, st, 1e-6, "step " + step);
            }
          }
        }
      }
      assertEquals(30_001, next, "every step of the run, from node B");
      int measuredBuckets = 0;
      while (measuredBuckets < 3) {   // a frame went by now: 20 a second, each bucket ~150 steps of the run
        Object m = live.next(30);
        if (!(m instanceof BinaryMessage x) || x.type() != BinaryWire.FRAME) continue;
        for (BinaryMessage.Block k : x.blocks()) {
          double[] sharpness = k.metrics().get("sharpness");
          if (sharpness == null) continue;
          for (int i = 0; i < k.step().length; i++) {
            if (Double.isNaN(sharpness[i])) continue;
            assertEquals(0, k.step()[i] % 10, "a bucket's measured point is a measured step: " + k.step()[i]);
            assertEquals(2, sharpness[i], 1e-6);
            measuredBuckets++;
          }
        }
      }
    }
  }

  /**
   * A read of node A's run on node B longer than one message between nodes (65,536 steps) comes in chunks, joined on
   * B: the steps come with their curvature, as node A serves them.
   */
  @Test
  void aLongReadOfNodeAsRunOnNodeBHasItsCurvatureAsNodeAServesIt() throws Exception {
    String run = here(a, "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.9},\"steps\":70000,"
        + "\"curvature_every\":10}");
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200
        && "finished".equals(b.get("/api/runs/" + run).json().get("state")), "node B sees node A's run finish");
    Map<String, Object> onA = a.get("/api/runs/" + run + "/steps").json();
    Map<String, Object> onB = b.get("/api/runs/" + run + "/steps").json();
    assertEquals(70_000, nums(onB.get("step")).size(), "every step, read from node A");
    List<?> sharpness = (List<?>) onB.get("sharpness");
    assertTrue(sharpness.get(69_999) instanceof Number, "step 70,000's sharpness, measured, read from node A: "
        + sharpness.get(69_999));
    assertEquals(2, TestServer.num(sharpness.get(69_999)), 1e-6);
    assertEquals(onA, onB, "node B serves the steps as node A does, their curvature with them");
    assertEquals(204, a.request("DELETE", "/api/runs/" + run, null).status());
  }

  /**
   * A client on node B catching up with node A's finished run from step 1 gets every step once, in order, and node A
   * is asked for them a few times, not once per message: node B reads ahead (16,384 steps a round trip) and serves the
   * client's next reads (1,000 steps a message) from what it read.
   */
  @Test
  void aClientOnNodeBCatchingUpWithNodeAsRunIsServedFromAFewReadsOfNodeA() throws Exception {
    String run = here(a, "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},\"steps\":100000}");
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200
        && "finished".equals(b.get("/api/runs/" + run).json().get("state")), "node B sees node A's run finish");
    java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();
    io.vertx.core.Handler<io.vertx.core.eventbus.DeliveryContext<Object>> count = d -> {
      if (d.message().address().endsWith(".history")) asked.incrementAndGet();
      d.next();
    };
    a.server.vertx().eventBus().addInboundInterceptor(count);
    try (TestServer.Client c = b.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\"}");
      long next = 1;
      while (next <= 100_000) {   // the run is introduced finished: its steps follow
        Map<String, Object> m = c.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type")), 60);
        for (double s : nums(m.get("step"))) assertEquals(next++, (long) s, "every step once, in order");
      }
      assertEquals(100_001, next, "every step of the run, from node B");
    } finally {
      a.server.vertx().eventBus().removeInboundInterceptor(count);
    }
    assertTrue(asked.get() <= 10, "100 messages of 1,000 steps from " + asked.get() + " reads of node A's history");
    assertEquals(204, a.request("DELETE", "/api/runs/" + run, null).status());
  }

  /** Bytes node {@code n}'s event bus read from other nodes on {@code address} (a family: Vert.x's own meter). */
  static double busBytesRead(TestServer n, String address) throws Exception {
    return MetricsIT.parse(n.get("/metrics").body()).stream()
        .filter(x -> x.name().startsWith("vertx_eventbus_bytes_read") && x.name().endsWith("_sum")
            && address.equals(x.labels().get("address")))
        .mapToDouble(MetricsIT.Sample::value).sum();
  }

  static final String STEPS = "losswatch.node.*.steps";

  /** Messages node {@code n}'s event bus read from other nodes on {@code address}. */
  static double busMessagesRead(TestServer n, String address) throws Exception {
    return MetricsIT.parse(n.get("/metrics").body()).stream()
        .filter(x -> x.name().startsWith("vertx_eventbus_bytes_read") && x.name().endsWith("_count")
            && address.equals(x.labels().get("address")))
        .mapToDouble(MetricsIT.Sample::value).sum();
  }

  private static String busLines(TestServer n) {
    try {
      return String.join("\n", n.get("/metrics").body().lines().filter(l -> l.contains("vertx_eventbus") && !l.startsWith("#")).toList());
    } catch (Exception e) {
      return e.toString();
    }
  }

  private static long stepOn(TestServer n, String run) throws Exception {
    return (long) TestServer.num(n.get("/api/runs/" + run).json().get("step"));
  }

  /** Waits until run {@code run} on node A has taken {@code more} steps beyond where it is now. */
  private static void aGoesOn(String run, long more) throws Exception {
    long from = stepOn(a, run);
    MetricsIT.waitUntil(() -> stepOn(a, run) >= from + more, "node A's run goes on");
  }

  /**
   * Issue 26: a node takes in a run's steps only while one of its own clients follows it: none while nobody on B
   * watches A's run (its list and summary still come), every step once to an {@code all} client on B from step 1, a
   * few points a frame to a {@code live} one, and none again once the last client left.
   */
  @Test
  void nodeBTakesInARunsStepsOnlyWhileOneOfItsClientsFollowsIt() throws Exception {
    String run = here(a, "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
        + "\"steps\":100000000,\"steps_per_second\":20000}");
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200, "node B lists node A's run");
    double idle = busBytesRead(b, STEPS);
    aGoesOn(run, 20_000);
    assertEquals(idle, busBytesRead(b, STEPS), "no step of it reaches node B while none of B's clients follows it");
    MetricsIT.waitUntil(() -> stepOn(b, run) >= stepOn(a, run) - 60_000, "B's list follows the run (its summary)");

    try (TestServer.Client c = b.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\"}");
      long until = stepOn(a, run) + 20_000;   // past the history read from A, into the steps A sends as they come
      long next = 1;
      while (next <= until) {
        Map<String, Object> m = c.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type")), 30);
        for (double s : nums(m.get("step"))) assertEquals(next++, (long) s, "every step once, in order, from step 1");
      }
      assertTrue(busBytesRead(b, STEPS) > idle, () -> "the steps came to node B while its client followed the run: "
          + busLines(b));
    }
    MetricsIT.waitUntil(() -> {   // the client left: B takes in none again
      double x = busBytesRead(b, STEPS);
      aGoesOn(run, 40_000);   // 2 s at its pace: past the age of a cached scrape (1 s)
      return busBytesRead(b, STEPS) == x;
    }, "node B stops taking in the run's steps once its last client left");

    try (TestServer.Client c = b.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"live\",\"max_hz\":10}");
      c.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type")), 30);   // the overview, read from A
      double bytes = busBytesRead(b, STEPS);
      double messages = busMessagesRead(b, STEPS);
      long t0 = System.nanoTime();
      long at = stepOn(a, run);
      long seen = 0;
      while (seen < at + 20_000) {   // its frames follow the run
        Map<String, Object> m = c.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type")), 30);
        List<Double> st = nums(m.get("step"));
        if (!st.isEmpty()) seen = Math.max(seen, st.get(st.size() - 1).longValue());
      }
      double buckets = busMessagesRead(b, STEPS) - messages;
      double seconds = (System.nanoTime() - t0) / 1e9 + 2;   // and a scrape's age at either end
      assertTrue(buckets <= seconds * 10 * 1.5 + 5, "at most the rate asked, whatever the run's pace: " + buckets
          + " buckets in " + seconds + " s");
      double each = (busBytesRead(b, STEPS) - bytes) / buckets;   // 3 points and a message's headers
      assertTrue(each < 4000, "each a few points, not the run's every step (2,000 at 20,000 a second): " + each + " B");
    }
    assertEquals(204, a.request("DELETE", "/api/runs/" + run, null).status());
  }

  /** Issue 26: a script may append to any node; its steps reach the run's owner, and commands come back the same way. */
  @Test
  void aScriptsAppendsToAnyNodeReachItsRunsOwner() throws Exception {
    String run = here(a, "{\"source\":\"external\",\"name\":\"script\"}");
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200, "node B lists node A's run");
    TestServer.Response r = b.post("/api/runs/" + run + "/steps", steps(1, 200));
    assertEquals(200, r.status(), r.body());
    assertEquals(200, TestServer.num(r.json().get("last_step")), r.body());
    assertEquals(100, TestServer.num(a.post("/api/runs/" + run + "/steps", steps(101, 300)).json().get("duplicates")));
    List<Double> onA = nums(a.get("/api/runs/" + run + "/steps").json().get("step"));
    assertEquals(300, onA.size(), "node A, the owner, holds every step once");
    for (int i = 0; i < 300; i++) assertEquals(i + 1, onA.get(i).longValue());
    assertEquals(200, b.post("/api/runs/" + run + "/finish", "{\"state\":\"finished\"}").status());
    MetricsIT.waitUntil(() -> "finished".equals(a.get("/api/runs/" + run).json().get("state")), "finished from node B");
    assertEquals(204, b.request("DELETE", "/api/runs/" + run, null).status());
  }

  @Test
  void aRunsMetricPointsOnNodeBAreTheOwnersAsNodeAReadsThem() throws Exception {
    String run = here(a, "{\"source\":\"external\",\"name\":\"metrics\"}");
    StringBuilder st = new StringBuilder(), loss = new StringBuilder(), acc = new StringBuilder();
    for (int i = 1; i <= 1000; i++) {
      String sep = i == 1 ? "" : ",";
      st.append(sep).append(i);
      loss.append(sep).append(1.0 / i);
      acc.append(sep).append(i % 50 == 0 ? String.valueOf(i == 500 ? 0.1 : 0.5 + i / 4000.0) : "null");
    }
    assertEquals(200, a.post("/api/runs/" + run + "/steps", "{\"step\":[" + st + "],\"loss\":[" + loss
        + "],\"metrics\":{\"val/acc\":[" + acc + "]}}").status());
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200
        && TestServer.num(b.get("/api/runs/" + run).json().get("step")) == 1000, "node B has node A's run at step 1000");
    for (String q : new String[] {"", "?from=901", "?max_points=8"}) {
      Map<String, Object> owner = a.get("/api/runs/" + run + "/metrics" + q).json();
      assertEquals(owner, b.get("/api/runs/" + run + "/metrics" + q).json(), "node B reads node A's metric points" + q);
      assertTrue(((Map<?, ?>) owner.get("metrics")).containsKey("val/acc"), owner.toString());
    }
    assertEquals(20, nums(((Map<?, ?>) ((Map<?, ?>) b.get("/api/runs/" + run + "/metrics").json().get("metrics"))
        .get("val/acc")).get("step")).size(), "every 50th of 1,000 steps");
    assertEquals(204, b.request("DELETE", "/api/runs/" + run, null).status());
  }

  /**
   * Steps {@code from..to} as an append: loss 1/step, "train/loss" every step (its lowest at step {@code low}), and
   * "val/acc" every 50th (its highest at step {@code high}).
   */
  private static String withMetrics(int from, int to, int low, int high) {
    StringBuilder st = new StringBuilder(), loss = new StringBuilder(), train = new StringBuilder(), acc = new StringBuilder();
    for (int i = from; i <= to; i++) {
      String sep = i == from ? "" : ",";
      st.append(sep).append(i);
      loss.append(sep).append(1.0 / i);
      train.append(sep).append(i == low ? 0.001 : 1.0 + 1.0 / i);
      acc.append(sep).append(i % 50 != 0 ? "null" : i == high ? "0.99" : String.valueOf(0.5 + i / 1e5));
    }
    return "{\"step\":[" + st + "],\"loss\":[" + loss + "],\"metrics\":{\"val/acc\":[" + acc + "],\"train/loss\":["
        + train + "]}}";
  }

  /** Run {@code run}'s per-metric stats as node {@code n} serves them: by id, and in its list of runs. */
  private static List<Object> metricStats(TestServer n, String run) throws Exception {
    Object listed = n.get("/api/runs").list().stream().map(x -> (Map<?, ?>) x).filter(x -> run.equals(x.get("id")))
        .findFirst().map(x -> x.get("metrics")).orElse(null);
    return java.util.Arrays.asList(n.get("/api/runs/" + run).json().get("metrics"), listed);
  }

  /**
   * Issue 26: a run's per-metric stats (each metric's last, lowest and highest value, and its last step) on node B, by
   * id and in the list, are node A's, its owner's, within a summary's second: they come with its summaries, and follow
   * the run as it goes on.
   */
  @Test
  void aRunsMetricStatsOnNodeBAreTheOwnersAsTheRunGoesOn() throws Exception {
    String run = here(a, "{\"source\":\"external\",\"name\":\"stats\"}");
    assertEquals(200, a.post("/api/runs/" + run + "/steps", withMetrics(1, 1000, 300, 500)).status());
    List<Object> owner = metricStats(a, run);
    Map<?, ?> acc = (Map<?, ?>) ((Map<?, ?>) owner.get(0)).get("val/acc");
    assertEquals(0.99, TestServer.num(acc.get("max")), "the owner's stats: " + owner);
    assertEquals(owner.get(0), owner.get(1), "by id and in the list alike");
    MetricsIT.waitUntil(() -> owner.equals(metricStats(b, run)), "node B serves node A's run's metric stats as A does: "
        + owner);
    assertEquals(List.of("val/acc", "train/loss"), new java.util.ArrayList<>(((Map<?, ?>) metricStats(b, run).get(0)).keySet()),
        "in the order they first came, as on node A");
    // the run goes on: a new lowest train/loss, and a last val/acc; node B follows
    assertEquals(200, a.post("/api/runs/" + run + "/steps", withMetrics(1001, 1500, 1234, 0)).status());
    List<Object> later = metricStats(a, run);
    assertEquals(1500, TestServer.num(((Map<?, ?>) ((Map<?, ?>) later.get(0)).get("val/acc")).get("step")), later.toString());
    MetricsIT.waitUntil(() -> later.equals(metricStats(b, run)), "node B follows the stats as the run goes on: " + later);
    String csv = a.get("/api/export?runs=" + run + "&format=csv").body();
    assertTrue(csv.lines().findFirst().orElseThrow().endsWith(",val/acc,train/loss"), csv.lines().findFirst().orElseThrow());
    assertEquals(csv, b.get("/api/export?runs=" + run + "&format=csv").body(), "node B exports the run as node A does,"
        + " its metrics' columns with it");
    assertEquals(204, b.request("DELETE", "/api/runs/" + run, null).status());
  }

  /**
   * A node that joins with runs read back from its data folder tells their metric stats too (read from their logs,
   * off its event loop): node B lists them as the owner does.
   */
  @Test
  void aRestoredRunsMetricStatsReachTheOtherNodes() throws Exception {
    java.nio.file.Path dir;
    String run;
    ServerConfig single = ServerConfig.defaults().forTest(0);
    try (TestServer alone = new TestServer(single)) {   // the run's steps on disk, as a node that went down left them
      dir = single.dataDir();
      run = alone.create("{\"source\":\"external\",\"name\":\"restored\"}");
      assertEquals(200, alone.post("/api/runs/" + run + "/steps", withMetrics(1, 5000, 4000, 2500)).status());
      assertEquals(200, alone.post("/api/runs/" + run + "/finish", "{\"state\":\"finished\"}").status());
    }
    int pc = freePort();
    try (TestServer c = new TestServer(node(clusterName, "c", pc, List.of("127.0.0.1:" + pa, "127.0.0.1:" + pc))
        .withDataDir(dir))) {
      List<Object> owner = metricStats(c, run);
      assertEquals(0.001, TestServer.num(((Map<?, ?>) ((Map<?, ?>) owner.get(0)).get("train/loss")).get("min")), owner.toString());
      MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200 && owner.equals(metricStats(b, run)),
          "node B serves the restored run's metric stats as its node does: " + owner);
      assertEquals(204, c.request("DELETE", "/api/runs/" + run, null).status());
    }
  }

  @Test
  void restOnNodeBPausesChangesTheLrOfAndDeletesARunOfNodeA() throws Exception {
    String run = here(a, "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},\"steps\":1000000,"
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
    TestServer.Response tagged = b.request("PATCH", "/api/runs/" + run, "{\"tags\":[\"from-b\"],\"notes\":\"set on node B\"}");
    assertEquals(200, tagged.status(), tagged.body());
    assertEquals(List.of("from-b"), a.get("/api/runs/" + run).json().get("tags"), "node A's run described from node B");
    assertEquals("set on node B", a.get("/api/runs/" + run).json().get("notes"));
    MetricsIT.waitUntil(() -> "set on node B".equals(b.get("/api/runs/" + run).json().get("notes")), "node B hears of it");
    assertEquals(404, b.post("/api/runs/nosuchrun/pause", null).status());
    assertEquals(204, b.request("DELETE", "/api/runs/" + run, null).status());
    MetricsIT.waitUntil(() -> a.get("/api/runs/" + run).status() == 404 && b.get("/api/runs/" + run).status() == 404,
        "the run is gone from both nodes");
    assertFalse(b.get("/api/runs").body().contains(run));
    assertTrue(a.get("/health").status() == 200 && b.get("/health").status() == 200);
  }

  @Test
  void eachNodesMetricsCarryTheRunsItOwns() throws Exception {
    String run = here(a, "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":500}");
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
      String theirs = here(a, "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":10}");
      MetricsIT.waitUntil(() -> b.get("/api/runs/" + theirs).status() == 200, "the cluster itself works");
      assertEquals(404, a.get("/api/runs/" + mine).status(), "the other cluster's run is not seen");
      assertEquals(404, other.get("/api/runs/" + theirs).status(), "nor this cluster's there");
    }
  }

  /** The Vert.x node ids a node's cluster manager lists: the members it shares the event bus with. */
  private static List<String> members(TestServer node) {
    return ((VertxInternal) node.server.vertx()).clusterManager().getNodes();
  }

  private static final String PACED = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
      + "\"steps\":1000000,\"steps_per_second\":1000}";

  /**
   * Issue 19.19: a process that knows the cluster's name and a member's address, but not its secret, joins
   * nothing: it sees none of the cluster's runs, cannot command them, and the cluster's runs go on untouched.
   */
  @Test
  void aNodeWithTheRightNameAndAWrongSecretJoinsNothing() throws Exception {
    String theirs = here(a, PACED);
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + theirs).status() == 200, "the cluster itself works");
    int px = freePort();
    try (TestServer stranger = new TestServer(node(clusterName, "x", px,
        List.of("127.0.0.1:" + pa, "127.0.0.1:" + px), WRONG))) {
      assertEquals(1, members(stranger).size(), "the stranger is alone: " + members(stranger));
      assertEquals(2, members(a).size(), "the cluster is still A and B: " + members(a));
      String mine = stranger.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":10}");
      // it reads nothing of the cluster: no run in its list, none by id, none on its stream
      assertFalse(stranger.get("/api/runs").body().contains(theirs), "the stranger lists none of the cluster's runs");
      assertEquals(404, stranger.get("/api/runs/" + theirs).status());
      assertEquals(404, stranger.get("/api/runs/" + theirs + "/steps").status());
      // it commands nothing: lr, pause, stop and delete of a run it knows the id of
      assertEquals(404, stranger.post("/api/runs/" + theirs + "/lr", "{\"lr\":10}").status());
      assertEquals(404, stranger.post("/api/runs/" + theirs + "/pause", null).status());
      assertEquals(404, stranger.post("/api/runs/" + theirs + "/stop", null).status());
      assertEquals(404, stranger.request("DELETE", "/api/runs/" + theirs, null).status());
      // the cluster's run goes on untouched, and the stranger's run never reaches the cluster
      Map<String, Object> run = a.get("/api/runs/" + theirs).json();
      assertEquals("running", run.get("state"), "the cluster's run goes on");
      assertTrue(((List<?>) run.get("lr_changes")).isEmpty(), "its lr never changed: " + run.get("lr_changes"));
      assertEquals(200, b.get("/api/runs/" + theirs).status());
      assertEquals(404, a.get("/api/runs/" + mine).status(), "the stranger's run is not in the cluster");
      assertEquals(404, b.get("/api/runs/" + mine).status());
      assertEquals(2, members(a).size(), "and nobody joined meanwhile: " + members(a));
    }
    assertEquals(204, a.request("DELETE", "/api/runs/" + theirs, null).status());
  }

  /**
   * The secret guards Hazelcast's port against stock Hazelcast too: a member of the same cluster name, and a
   * Hazelcast client (which could otherwise read and rewrite Vert.x's subscription map), get nowhere.
   */
  @Test
  void stockHazelcastWithTheClustersNameNeitherJoinsNorConnects() throws Exception {
    Config stock = new Config().setClusterName(clusterName);
    stock.setProperty("hazelcast.phone.home.enabled", "false");
    stock.setProperty("hazelcast.wait.seconds.before.join", "0");
    stock.setProperty("hazelcast.max.join.seconds", "10");   // it tries, for 300 s by default
    stock.getNetworkConfig().setPort(freePort()).setPortAutoIncrement(false).getInterfaces().setEnabled(true)
        .addInterface("127.0.0.1");
    stock.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    stock.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    stock.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true).addMember("127.0.0.1:" + pa);
    // it meets the handshake where Hazelcast's protocol should be, so it never joins, and gives up
    assertThrows(IllegalStateException.class, () -> Hazelcast.newHazelcastInstance(stock).shutdown(),
        "a stock member of the cluster's name does not join");
    assertEquals(2, members(a).size(), "the cluster is still A and B: " + members(a));
    ClientConfig client = new ClientConfig().setClusterName(clusterName);
    client.getNetworkConfig().addAddress("127.0.0.1:" + pa);
    client.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(3_000);
    assertThrows(IllegalStateException.class, () -> HazelcastClient.newHazelcastClient(client).shutdown(),
        "a Hazelcast client with the cluster's name connects to nothing");
  }

  /**
   * The event bus holds on its own: a member let into Hazelcast (as one on the network path could be) whose
   * event bus lacks the cluster's certificate sends nothing a node takes, and is sent nothing: a node shows its
   * certificate to, and sends to, only an end that shows the cluster's.
   */
  @Test
  void aMemberWithoutTheClustersCertificateGetsNothingOverTheEventBus() throws Exception {
    String run = here(a, PACED);
    MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200, "the cluster itself works");
    int ph = freePort();
    List<String> list = List.of("127.0.0.1:" + pa, "127.0.0.1:" + ph);
    HazelcastClusterManager joined = settings(clusterName, "h", ph, list, SECRET).join();   // Hazelcast's key
    VertxOptions options = new VertxOptions();
    // another certificate, and as open as it gets: it takes any client and trusts any server
    settings(clusterName, "h", ph, list, WRONG).eventBus(options.getEventBusOptions())
        .setClientAuth(ClientAuth.NONE).setTrustAll(true);
    Vertx h = TestServer.await(Vertx.builder().with(options).withClusterManager(joined).buildClustered());
    try {
      Codecs.registerAll(h.eventBus());
      MetricsIT.waitUntil(() -> members(a).size() == 3, "it is in Hazelcast");
      String nodeA = ((VertxInternal) a.server.vertx()).clusterManager().getNodeId();
      List<Object> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
      TestServer.await(h.eventBus().consumer(Events.CLUSTER, m -> heard.add(m.body())).completion());
      DeliveryOptions soon = new DeliveryOptions().setSendTimeout(5_000);
      Future<Message<Object>> listed = h.eventBus().request(Events.node(nodeA, "runs"), "", soon);
      Future<Message<Object>> deleted = h.eventBus().request(Events.node(nodeA, "delete"), run, soon);
      assertThrows(Exception.class, () -> TestServer.await(listed), "node A's run list is not read");
      assertThrows(Exception.class, () -> TestServer.await(deleted), "node A's run is not deleted");
      double step = TestServer.num(a.get("/api/runs/" + run).json().get("step"));
      MetricsIT.waitUntil(() -> TestServer.num(a.get("/api/runs/" + run).json().get("step")) > step + 500,
          "node A publishes its run's batches meanwhile");
      assertTrue(heard.isEmpty(), "none reached the member without the certificate: " + heard.size());
      assertEquals("running", a.get("/api/runs/" + run).json().get("state"), "the run goes on, untouched");
      assertEquals(200, b.get("/api/runs/" + run).status());
    } finally {
      TestServer.await(h.close());
      joined.getHazelcastInstance().shutdown();
    }
    MetricsIT.waitUntil(() -> members(a).size() == 2, "it left");
    assertEquals(204, a.request("DELETE", "/api/runs/" + run, null).status());
  }

  /**
   * A node's event-bus port, which took any TCP client's frames before: plain TCP and TLS without the cluster's
   * certificate are closed without a byte of the event bus; all a stranger gets is the certificate it is shown.
   */
  @Test
  void theEventBusPortTakesNoConnectionWithoutTheClustersCertificate() throws Exception {
    NodeInfo bus = ((VertxInternal) a.server.vertx()).clusterManager().getNodeInfo();
    try (Socket plain = new Socket(bus.host(), bus.port())) {
      plain.setSoTimeout(20_000);
      OutputStream out = plain.getOutputStream();
      out.write(new byte[] {0, 0, 0, 8, 1, 0, 0, 0, 0, 0, 0, 0});   // not TLS
      out.flush();
      assertEquals(-1, readOrEnd(plain), "plain TCP is closed");
    }
    SSLContext tls = SSLContext.getInstance("TLSv1.3");
    X509Certificate[] shown = new X509Certificate[1];
    tls.init(null, new TrustManager[] {new X509TrustManager() {
      @Override public void checkClientTrusted(X509Certificate[] chain, String auth) {
      }

      @Override public void checkServerTrusted(X509Certificate[] chain, String auth) {
        shown[0] = chain[0];
      }

      @Override public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    try (SSLSocket noCertificate = (SSLSocket) tls.getSocketFactory().createSocket(bus.host(), bus.port())) {
      noCertificate.setSoTimeout(20_000);
      int got;
      try {
        noCertificate.startHandshake();   // TLS 1.3: the server refuses the client's missing certificate after this
        noCertificate.getOutputStream().write(new byte[] {0, 0, 0, 1, 1});
        got = readOrEnd(noCertificate);
      } catch (IOException e) {
        got = -1;
      }
      assertEquals(-1, got, "TLS without the cluster's certificate is closed");
    }
    assertEquals("CN=losswatch cluster " + clusterName, shown[0].getSubjectX500Principal().getName(),
        "what a stranger learns: the certificate");
  }

  /** Hazelcast's port and the event bus' listen on the cluster host only: from another address of this machine, nothing. */
  @Test
  void theClusterPortsListenOnTheClusterHostOnly() throws Exception {
    List<java.net.InetAddress> others = java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces()).stream()
        .flatMap(i -> java.util.Collections.list(i.getInetAddresses()).stream())
        .filter(x -> x instanceof java.net.Inet4Address && !x.isLoopbackAddress()).toList();
    org.junit.jupiter.api.Assumptions.assumeFalse(others.isEmpty(), "this machine has no address but loopback");
    NodeInfo bus = ((VertxInternal) a.server.vertx()).clusterManager().getNodeInfo();
    assertEquals("127.0.0.1", bus.host());
    for (java.net.InetAddress other : others) {
      for (int port : new int[] {pa, bus.port()}) {
        try (Socket s = new Socket()) {
          assertThrows(java.net.ConnectException.class, () -> s.connect(new java.net.InetSocketAddress(other, port), 5_000),
              "nothing listens on " + other.getHostAddress() + ":" + port);
        }
      }
    }
    try (Socket s = new Socket("127.0.0.1", pa)) {
      assertTrue(s.isConnected(), "while Hazelcast listens on the cluster host");
    }
  }

  /** The next byte, or -1 at the end of the stream or when the other end resets or refuses. */
  private static int readOrEnd(Socket s) throws IOException {
    try {
      return s.getInputStream().read();
    } catch (java.net.SocketTimeoutException e) {
      throw e;   // neither data nor a close: the test fails
    } catch (IOException e) {
      return -1;
    }
  }

  /** Creates a run on node {@code n} whatever the nodes' loads (these tests are about where a run lives). */
  private static String here(TestServer n, String spec) throws Exception {
    TestServer.Response r = n.post("/api/runs?here=true", spec);
    assertEquals(201, r.status(), r.body());
    return (String) r.json().get("id");
  }

  /**
   * A node with at least 2 more running runs than the least busy one places a new run there: the creation answers
   * with the run and the node it lives on (its name and address), the run is listed on the node asked at once and
   * owned by the other (its appends stored there, its series in that node's /metrics); {@code ?here=true} keeps a run
   * where it is asked for, and nodes about as busy keep theirs.
   */
  @Test
  void aBusyNodePlacesANewRunOnTheLeastBusyNode() throws Exception {
    String name = "t-" + UUID.randomUUID();
    int pp = freePort();
    int pq = freePort();
    List<String> members = List.of("127.0.0.1:" + pp, "127.0.0.1:" + pq);
    try (TestServer p = new TestServer(node(name, "p", pp, members)); TestServer q = new TestServer(node(name, "q", pq, members))) {
      String external = "{\"source\":\"external\",\"name\":\"script\"}";
      for (int i = 0; i < 2; i++) {   // 0, then 1 more than node Q: node P keeps them
        TestServer.Response r = p.post("/api/runs", external);
        assertEquals(201, r.status(), r.body());
        assertEquals("p", ((Map<?, ?>) r.json().get("node")).get("name"), r.body());
      }
      TestServer.Response placed = p.post("/api/runs", external);   // 2 more: node Q takes it
      assertEquals(201, placed.status(), placed.body());
      String run = (String) placed.json().get("id");
      Map<?, ?> where = (Map<?, ?>) placed.json().get("node");
      assertEquals("q", where.get("name"), placed.body());
      assertEquals("http://127.0.0.1:" + q.port(), where.get("url"), placed.body());
      assertEquals(200, p.get("/api/runs/" + run).status(), "listed on the node asked at once");
      // the script goes on with either node: both store its steps on node Q
      assertEquals(200, p.post("/api/runs/" + run + "/steps", steps(1, 10)).status());
      assertEquals(200, q.post("/api/runs/" + run + "/steps", steps(11, 20)).status());
      assertEquals(20, nums(q.get("/api/runs/" + run + "/steps").json().get("step")).size());
      MetricsIT.waitUntil(() -> q.get("/metrics").body().contains("run=\"" + run + "\""), "node Q owns it: its series");
      assertFalse(p.get("/metrics").body().contains("run=\"" + run + "\""), "not on node P");
      // ?here=true keeps a run on the node asked, busy or not
      TestServer.Response pinned = p.post("/api/runs?here=true", external);
      assertEquals("p", ((Map<?, ?>) pinned.json().get("node")).get("name"), pinned.body());
      // node P runs 3, node Q 1: the next goes to Q, and then they are about as busy (3 and 2): P keeps its own
      assertEquals("q", ((Map<?, ?>) p.post("/api/runs", external).json().get("node")).get("name"));
      assertEquals("p", ((Map<?, ?>) p.post("/api/runs", external).json().get("node")).get("name"));
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

  /**
   * Without a shared data folder a node's runs' steps go with it (no other node keeps steps nobody there watched):
   * another node takes the run over afresh, keeps every step its script sends again, and the run goes on there.
   */
  @Test
  void anExternalRunWhoseNodeLeftGoesOnWithAnotherNodeWithoutASharedDataFolder() throws Exception {
    int pc = freePort();
    String run;
    try (TestServer c = new TestServer(node(clusterName, "c", pc, List.of("127.0.0.1:" + pa, "127.0.0.1:" + pc)))) {
      run = here(c, "{\"source\":\"external\",\"name\":\"script\"}");
      assertEquals(200, c.post("/api/runs/" + run + "/steps", steps(1, 300)).status());
      // its summary here (node B marks the run lost from it), and its steps read through node C: the two travel
      // apart, so each is waited for, never the steps because the summary said so
      MetricsIT.waitUntil(() -> b.get("/api/runs/" + run).status() == 200
          && TestServer.num(b.get("/api/runs/" + run).json().get("step")) == 300
          && nums(b.get("/api/runs/" + run + "/steps").json().get("step")).size() == 300,
          "node B lists node C's run and reads its steps from node C");
    }
    MetricsIT.waitUntil(() -> "lost".equals(b.get("/api/runs/" + run).json().get("state")), "node C left: lost");
    // the script sends again what it still holds, and goes on: node B takes the run over
    TestServer.Response r = b.post("/api/runs/" + run + "/steps", steps(251, 400));
    assertEquals(200, r.status(), r.body());
    assertEquals(150, TestServer.num(r.json().get("accepted")), r.body());
    List<Double> got = nums(b.get("/api/runs/" + run + "/steps").json().get("step"));
    assertEquals(150, got.size(), "every step sent again, once");
    for (int i = 0; i < 150; i++) assertEquals(251 + i, got.get(i).longValue());
    MetricsIT.waitUntil(() -> "running".equals(a.get("/api/runs/" + run).json().get("state")),
        "node A sees node B own it");
  }
}
