package io.losswatch.web;

import io.losswatch.Patience;
import java.util.concurrent.TimeUnit;

import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.server.ServerConfig;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code /metrics} as Prometheus reads it. */
class MetricsIT {
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
        Map<String, Object> summary = server.get("/api/runs/" + id).json();
        assertEquals(TestServer.num(summary.get("loss")), loss, "the last step's loss");
        // ended, its series stay (for --metrics-retention) and say so: one state, finished
        assertEquals(List.of("finished"), samples.stream().filter(x -> x.name.equals("losswatch_run_state")
            && id.equals(x.labels.get("run")) && x.value == 1).map(x -> x.labels.get("state")).toList());
        assertEquals(0.0, value(samples, "losswatch_run_cycle", id));
        assertEquals(0.0, value(samples, "losswatch_run_pace_steps_per_second", id), "unpaced");
        assertEquals(Instant.parse((String) summary.get("updated")).toEpochMilli() / 1000.0,
            value(samples, "losswatch_run_updated_timestamp_seconds", id), 0.001, "the summary's updated");
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

  private static double value(List<Sample> samples, String name, String run) {
    return samples.stream().filter(x -> x.name.equals(name) && run.equals(x.labels.get("run"))).findFirst()
        .orElseThrow(() -> new AssertionError(name + " of run " + run + " missing")).value;
  }

  /** The run's states in /metrics with their values: one series, for the current state. */
  private static Map<String, Double> states(TestServer server, String run) throws Exception {
    Map<String, Double> out = new HashMap<>();
    for (Sample x : parse(server.get("/metrics").body())) {
      if (x.name.equals("losswatch_run_state") && run.equals(x.labels.get("run"))) {
        out.put(x.labels.get("state"), x.value);
      }
    }
    return out;
  }

  @Test
  void theStateSeriesFollowsTheRunAndTheCycleCountsItsRestarts() throws Exception {
    try (TestServer server = new TestServer()) {
      String id = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},"
          + "\"steps\":100000,\"steps_per_second\":20}");
      waitUntil(() -> states(server, id).equals(Map.of("running", 1.0)), "running");
      assertEquals(20.0, value(parse(server.get("/metrics").body()), "losswatch_run_pace_steps_per_second", id));
      assertEquals(200, server.post("/api/runs/" + id + "/pause", null).status());
      waitUntil(() -> states(server, id).equals(Map.of("paused", 1.0)), "paused");
      assertEquals(200, server.post("/api/runs/" + id + "/resume", null).status());
      waitUntil(() -> states(server, id).equals(Map.of("running", 1.0)), "running again");
      assertEquals(200, server.post("/api/runs/" + id + "/stop", null).status());
      waitUntil(() -> states(server, id).equals(Map.of("stopped", 1.0)), "stopped, for the retention");

      // a demo run starts over when it ends: same series, the cycle counts it
      String demo = TestServer.await(server.server.manager().launch(RunSpec.parse("{\"problem\":\"quadratic\","
          + "\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":5,\"steps_per_second\":50}"), true)).id();
      waitUntil(() -> value(parse(server.get("/metrics").body()), "losswatch_run_cycle", demo) == 1.0,
          "the demo run started over");
    }
  }

  /**
   * vertx-micrometer-metrics registers the event bus' handler gauge again at every consumer; Micrometer warned
   * "This Gauge has been already registered" at every start (then, once per JVM, logs the same at debug level:
   * both count here). The gauge itself stays.
   */
  @Test
  void startingLogsNoDoubleRegistrationAndTheGaugeStays() throws Exception {
    Logger micrometer = Logger.getLogger("io.micrometer.core.instrument.MeterRegistry");
    List<String> logged = new CopyOnWriteArrayList<>();
    Handler capture = new Handler() {
      @Override public void publish(LogRecord r) {
        logged.add(r.getLevel() + " " + r.getMessage());
      }

      @Override public void flush() {
      }

      @Override public void close() {
      }
    };
    Level before = micrometer.getLevel();
    micrometer.setLevel(Level.ALL);
    micrometer.addHandler(capture);
    try (TestServer server = new TestServer(); TestServer.Client c = server.client()) {
      String id = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":50}");
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"]}");
      c.next(runState(id, "finished"), 30);
      waitUntil(() -> parse(server.get("/metrics").body()).stream()
          .anyMatch(x -> x.name.equals("vertx_eventbus_handlers") && x.value > 0), "vertx_eventbus_handlers");
    } finally {
      micrometer.removeHandler(capture);
      micrometer.setLevel(before);
    }
    assertEquals(List.of(), logged.stream().filter(m -> m.contains("already registered")).toList());
  }

  interface Check {
    boolean ok() throws Exception;
  }

  /** Polls a condition the server reaches asynchronously, for at most 10 s stretched by {@link Patience}. */
  static void waitUntil(Check c) throws Exception {
    waitUntil(c, "condition not reached in " + Patience.seconds(10) + " s");
  }

  static void waitUntil(Check c, String what) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Patience.seconds(10));
    while (!c.ok()) {
      assertTrue(System.nanoTime() < end, what);
      Thread.onSpinWait();
    }
  }
}
