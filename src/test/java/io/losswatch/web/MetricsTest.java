package io.losswatch.web;

import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code /metrics} as Prometheus reads it. */
class MetricsTest {
  /** One sample line of the text format: name, optional labels, value. */
  private static final Pattern SAMPLE = Pattern.compile(
      "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*)\\})? "
          + "(-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)( [0-9]+)?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  record Sample(String name, Map<String, String> labels, double value) {
  }

  /** Parses the whole exposition, failing on any line that is neither a comment nor a sample. */
  static List<Sample> parse(String text) {
    List<Sample> out = new java.util.ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ") || line.equals("# EOF")) continue;
      Matcher m = SAMPLE.matcher(line);
      assertTrue(m.matches(), "not Prometheus text: " + line);
      Map<String, String> labels = new HashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) labels.put(l.group(1), l.group(2));
      }
      String v = m.group(4);
      out.add(new Sample(m.group(1), labels,
          v.equals("+Inf") ? Double.POSITIVE_INFINITY : v.equals("-Inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(v)));
    }
    return out;
  }

  @Test
  void perRunAndServerSeriesParseAndADeletedRunsSeriesAreGone() throws Exception {
    try (TestServer server = new TestServer()) {
      String id = server.create("{\"name\":\"m1\",\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\","
          + "\"lr\":0.01},\"schedule\":{\"type\":\"cosine\",\"T_max\":500},\"steps\":500}");
      try (TestServer.Client c = server.client()) {
        c.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"]}");
        c.next(runState(id, "finished"), 30);
        TestServer.Response r = server.get("/metrics");
        assertEquals(200, r.status());
        assertTrue(r.contentType().startsWith("text/plain"), r.contentType());
        List<Sample> samples = parse(r.body());
        Map<String, String> labels = Map.of("run", id, "name", "m1", "problem", "rosenbrock", "optimizer", "adam",
            "schedule", "cosine");
        for (String name : List.of("losswatch_loss", "losswatch_learning_rate", "losswatch_grad_norm",
            "losswatch_step", "losswatch_steps_total")) {
          Sample s = samples.stream().filter(x -> x.name.equals(name) && x.labels.equals(labels)).findFirst()
              .orElseThrow(() -> new AssertionError(name + " with labels " + labels + " missing"));
          if (name.equals("losswatch_steps_total") || name.equals("losswatch_step")) assertEquals(500.0, s.value);
        }
        double loss = samples.stream().filter(x -> x.name.equals("losswatch_loss") && id.equals(x.labels.get("run")))
            .findFirst().orElseThrow().value;
        assertEquals(TestServer.num(server.get("/api/runs/" + id).json().get("loss")), loss, "the last step's loss");
        assertTrue(samples.stream().anyMatch(x -> x.name.equals("losswatch_runs")
            && "finished".equals(x.labels.get("state")) && x.value == 1.0));
        assertTrue(samples.stream().anyMatch(x -> x.name.equals("losswatch_ws_clients") && x.value == 1.0));
        assertTrue(samples.stream().anyMatch(x -> x.name.equals("losswatch_ws_dropped_total")));
        assertTrue(samples.stream().anyMatch(x -> x.name.startsWith("jvm_memory_used_bytes")), "JVM metrics");
        assertTrue(samples.stream().anyMatch(x -> x.name.startsWith("vertx_")), "Vert.x metrics");

        assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
        c.next(runState(id, "deleted"), 10);
        // the metrics verticle saw the same event; a scrape after it no longer has the run
        waitUntil(() -> !server.get("/metrics").body().contains("run=\"" + id + "\""));
        assertFalse(server.get("/metrics").body().contains(id));
      }
    }
  }

  @Test
  void anEndedRunsSeriesGoAfterTheRetention() throws Exception {
    try (TestServer server = new TestServer(ServerConfig.defaults().forTest(0).withMetricsRetentionMs(300))) {
      String id = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":50}");
      try (TestServer.Client c = server.client()) {
        c.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"]}");
        c.next(runState(id, "finished"), 30);
      }
      waitUntil(() -> !server.get("/metrics").body().contains("run=\"" + id + "\""));
      assertEquals("finished", server.get("/api/runs/" + id).json().get("state"), "the run itself stays");
    }
  }

  interface Check {
    boolean ok() throws Exception;
  }

  /** Polls a condition the server reaches asynchronously, for at most 10 s. */
  static void waitUntil(Check c) throws Exception {
    waitUntil(c, "condition not reached in 10 s");
  }

  static void waitUntil(Check c, String what) throws Exception {
    long end = System.nanoTime() + 10_000_000_000L;
    while (!c.ok()) {
      assertTrue(System.nanoTime() < end, what);
      Thread.onSpinWait();
    }
  }
}
