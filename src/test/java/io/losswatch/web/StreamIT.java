package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static io.losswatch.web.TestServer.runState;
import static io.losswatch.web.TestServer.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The WebSocket stream, against the real server. */
class StreamIT extends SharedServer {

  /** Columns of the trace CSV for a spec: step, loss, lr, grad_norm. */
  private static List<double[]> trace(String spec) throws Exception {
    StringWriter w = new StringWriter();
    TraceCommand.write(RunSpec.parse(spec), w);
    List<double[]> rows = new ArrayList<>();
    for (String line : w.toString().split("\n")) {
      if (line.startsWith("step")) continue;
      String[] f = line.split(",");
      rows.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
          Double.parseDouble(f[3])});
    }
    return rows;
  }

  /** Collects every steps message of a run until it reaches {@code state}; returns rows step, loss, lr, grad_norm. */
  private static List<double[]> collect(TestServer.Client c, String run, String state, List<Integer> sizes)
      throws Exception {
    List<double[]> rows = new ArrayList<>();
    while (true) {
      Map<String, Object> m = c.next(x -> (run.equals(x.get("run")) && ("steps".equals(x.get("type"))
          || "gap".equals(x.get("type")))) || runState(run, state).test(x), 60);
      if ("run".equals(m.get("type"))) return rows;
      assertFalse("gap".equals(m.get("type")), "unexpected gap " + m);
      if (sizes != null) sizes.add(((List<?>) m.get("step")).size());
      rows.addAll(rows(m));
    }
  }

  /** A steps message's rows: step, loss, lr, grad_norm. */
  private static List<double[]> rows(Map<String, Object> m) {
    List<double[]> rows = new ArrayList<>();
    List<Double> step = nums(m.get("step"));
    List<Double> loss = nums(m.get("loss"));
    List<Double> lr = nums(m.get("lr"));
    List<Double> g = nums(m.get("grad_norm"));
    assertEquals(step.size(), ((List<?>) m.get("t")).size());
    for (int i = 0; i < step.size(); i++) rows.add(new double[] {step.get(i), loss.get(i), lr.get(i), g.get(i)});
    return rows;
  }

  @Test
  void allModeDeliversExactlyWhatTracePrints() throws Exception {
    String spec = "{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.01,\"amsgrad\":true},"
        + "\"schedule\":{\"type\":\"onecycle\",\"max_lr\":0.05},\"steps\":20000,\"steps_per_second\":10000}";
    try (TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      String run = server.create(spec);
      List<double[]> got = collect(c, run, "finished", null);
      List<double[]> want = trace(spec);
      assertEquals(want.size(), got.size(), "every step, once");
      for (int i = 0; i < want.size(); i++) {
        for (int k = 0; k < 4; k++) {
          assertEquals(Double.doubleToLongBits(want.get(i)[k]), Double.doubleToLongBits(got.get(i)[k]),
              "step " + (i + 1) + " column " + k + ": " + want.get(i)[k] + " vs " + got.get(i)[k]);
        }
      }
    }
  }

  @Test
  void aSubscriberGetsTheSummaryAndHistoryFirstThenLiveSteps() throws Exception {
    String run = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.01},"
        + "\"steps\":100000,\"steps_per_second\":200}");
    try (TestServer.Client early = server.client()) {
      early.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\"}");
      early.next(m -> "steps".equals(m.get("type")) && nums(m.get("step")).contains(20.0), 30);
    }
    try (TestServer.Client c = server.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\"}");
      Map<String, Object> first = c.next(m -> true, 10);
      assertEquals("run", first.get("type"));
      Map<String, Object> history = c.next(m -> true, 10);
      assertEquals("steps", history.get("type"));
      List<Double> steps = nums(history.get("step"));
      assertEquals(1.0, steps.get(0));
      for (int i = 1; i < steps.size(); i++) assertEquals(steps.get(i - 1) + 1, steps.get(i), "history is whole");
      double next = steps.get(steps.size() - 1) + 1;
      Map<String, Object> live = c.next(type("steps"), 10);
      assertEquals(next, nums(live.get("step")).get(0), "live steps continue right after the history");
    }
    assertEquals(204, server.request("DELETE", "/api/runs/" + run, null).status());
  }

  @Test
  void liveModeKeepsAOneStepSpike() throws Exception {
    // noisy minibatch losses, paced so that ten messages a second each stand for hundreds of steps
    String spec = "{\"problem\":{\"type\":\"mlp\",\"hidden\":8,\"batch_size\":4},\"optimizer\":{\"type\":\"sgd\","
        + "\"lr\":0.05},\"steps\":6000,\"steps_per_second\":6000}";
    List<double[]> want = trace(spec);
    List<Integer> sizes = new ArrayList<>();
    List<double[]> got;
    try (TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\",\"max_hz\":10}");
      String run = server.create(spec);
      got = collect(c, run, "finished", sizes);
    }
    // (the first may be history: a fast run can take a few steps before the gateway hears it was created)
    assertTrue(sizes.subList(1, sizes.size()).stream().allMatch(n -> n <= 4),
        "a live message is one bucket: at most min, max, last and the last curvature measurement: " + sizes);
    assertTrue(got.size() < want.size() / 10, "live mode conflates: " + got.size() + " of " + want.size());
    // the largest loss once past the initial descent is a one-step spike: both neighbours are lower
    int top = 1000;
    for (int i = 1000; i < want.size() - 1; i++) if (want.get(i)[1] > want.get(top)[1]) top = i;
    final int spike = top;
    assertTrue(want.get(spike - 1)[1] < want.get(spike)[1] && want.get(spike + 1)[1] < want.get(spike)[1]);
    assertTrue(got.stream().anyMatch(r -> r[0] == want.get(spike)[0] && r[1] == want.get(spike)[1]),
        "the spike at step " + (spike + 1) + " was sent");
    // every message is a bucket (previous last step, this last step] carrying that range's extremes and last point
    int at = 0;
    long prevLast = 0;
    for (int n : sizes) {
      List<double[]> msg = got.subList(at, at + n);
      long last = (long) msg.get(n - 1)[0];
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (long st = prevLast + 1; st <= last; st++) {
        min = Math.min(min, want.get((int) st - 1)[1]);
        max = Math.max(max, want.get((int) st - 1)[1]);
      }
      final double lo = min;
      final double hi = max;
      assertTrue(msg.stream().anyMatch(r -> r[1] == lo), "bucket up to step " + last + " keeps its minimum");
      assertTrue(msg.stream().anyMatch(r -> r[1] == hi), "bucket up to step " + last + " keeps its maximum");
      for (double[] r : msg) assertEquals(want.get((int) r[0] - 1)[1], r[1], "values are the trace's");
      at += n;
      prevLast = last;
    }
    assertEquals(want.size(), prevLast, "the last step is always sent");
  }

  @Test
  void aClientThatStopsReadingDelaysNoOtherClientAndLaterGetsEveryStep() throws Exception {
    // paced so that a client that reads can keep up; the stalled one falls behind by megabytes
    String spec = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},\"steps\":300000,"
        + "\"steps_per_second\":60000}";
    try (TestServer.Client stalled = server.client(); TestServer.Client reader = server.client()) {
      stalled.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      reader.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      stalled.ws.pause();   // stops reading: its TCP window and then its server-side queue fill up
      String run = server.create(spec);
      // the reader gets half the run while the stalled client reads nothing (megabytes behind by then) …
      List<double[]> got = new ArrayList<>();
      while (got.isEmpty() || got.get(got.size() - 1)[0] < 150_000) {
        got.addAll(rows(reader.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type")), 60)));
      }
      stalled.ws.resume();   // … and no longer: a client may go 10 s without reading, a busy machine's reader is slow
      got.addAll(collect(reader, run, "finished", null));
      assertEquals(300000, got.size(), "the reading client got every step");
      assertEquals(300000.0, got.get(got.size() - 1)[0]);
      List<double[]> late = collect(stalled, run, "finished", null);
      assertEquals(300000, late.size(), "the stalled client, once it reads again, gets every step too");
      for (int i = 0; i < late.size(); i++) assertEquals(i + 1, late.get(i)[0], "once each, in order");
    }
  }

  @Test
  void badClientMessagesGetAnErrorAndTheConnectionStaysOpen() throws Exception {
    try (TestServer.Client c = server.client()) {
      c.send("not json");
      assertTrue(((String) c.next(type("error"), 5).get("message")).contains("invalid JSON"));
      c.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"fast\"}");
      assertTrue(((String) c.next(type("error"), 5).get("message")).startsWith("mode: must be one of"));
      c.send("{\"op\":\"subscribe\",\"runs\":[\"nope\"]}");
      assertTrue(((String) c.next(type("error"), 5).get("message")).contains("no run with id \"nope\""));
      c.send("{\"runs\":[\"*\"]}");
      assertTrue(((String) c.next(type("error"), 5).get("message")).startsWith("op: is required"));
      c.send("{\"op\":\"dance\",\"runs\":[\"*\"]}");
      assertTrue(((String) c.next(type("error"), 5).get("message")).startsWith("op: must be one of"));
      c.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"max_hz\":0}");
      assertTrue(((String) c.next(type("error"), 5).get("message")).startsWith("max_hz: must be in"));
      assertFalse(c.ws.isClosed());
      String run = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":5}");
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"]}");
      c.next(runState(run, "finished"), 10);
    }
  }
}
