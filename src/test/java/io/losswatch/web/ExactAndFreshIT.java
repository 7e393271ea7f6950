package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The stream's two promises: {@code all} mode delivers every step exactly once, in order, from step 1 or
 * {@code from_step}, however late the client joins; {@code live} mode sends one frame per tick with at most
 * {@code max_hz} updates a run, and never lets a client read stale steps.
 */
class ExactAndFreshIT extends SharedServer {
  private static final String FAST = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
      + "\"steps\":%d%s}";

  private static String spec(long steps, String more) {
    return FAST.formatted(steps, more);
  }

  /**
   * Reads a run's all-mode steps until the state, checking each is the next one: returns the last step. The
   * summary announcing that state comes only after every step before it.
   */
  private static long expectEvery(TestServer.Client c, String run, long from, String state) throws Exception {
    long next = from;
    while (true) {
      Map<String, Object> m = c.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type"))
          || runState(run, state).test(x), 60);
      if ("run".equals(m.get("type"))) {
        long step = (long) TestServer.num(((Map<?, ?>) m.get("run")).get("step"));
        assertEquals(step, next - 1, "the run's " + state + " comes right after its last step");
        return next - 1;
      }
      for (double s : nums(m.get("step"))) {
        assertEquals(next, (long) s, "every step once, in order");
        next++;
      }
    }
  }

  @Test
  void allModeFromBeforeTheRunIsCreatedGetsEveryStepOfAnUnthrottledRun() throws Exception {
    try (TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      String run = server.create(spec(1_000_000, ""));
      assertEquals(1_000_000, expectEvery(c, run, 1, "finished"));
    }
  }

  @Test
  void allModeJoinedMidRunGetsEveryStepFromOne() throws Exception {
    String run = server.create(spec(1_000_000, ",\"steps_per_second\":250000"));
    MetricsIT.waitUntil(() -> TestServer.num(server.get("/api/runs/" + run).json().get("step")) >= 500_000,
        "the run is half a million steps in");
    try (TestServer.Client c = server.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\"}");
      c.next(runState(run, "running"), 10);   // introduced first
      assertEquals(1_000_000, expectEvery(c, run, 1, "finished"));
    }
  }

  @Test
  void allModeResumesFromStepAfterAReconnect() throws Exception {
    String run = server.create(spec(300_000, ",\"steps_per_second\":100000"));
    long had;
    try (TestServer.Client c = server.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\"}");
      had = 0;
      while (had < 50_000) {
        Map<String, Object> m = c.next(x -> run.equals(x.get("run")) && "steps".equals(x.get("type")), 30);
        List<Double> steps = nums(m.get("step"));
        assertEquals(had + 1, steps.get(0).longValue());
        had = steps.get(steps.size() - 1).longValue();
      }
    }   // the connection drops
    try (TestServer.Client c = server.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\",\"from_step\":" + (had + 1) + "}");
      // introduced first: running, or, on a busy machine where reading 50k steps took the run's 3 s, finished already
      Map<String, Object> intro = c.next(runState(run, "running").or(runState(run, "finished")), 10);
      if ("running".equals(((Map<?, ?>) intro.get("run")).get("state"))) {
        assertEquals(300_000, expectEvery(c, run, had + 1, "finished"));
      } else {
        for (long next = had + 1; next <= 300_000; ) {
          for (double s : nums(c.next(x -> "steps".equals(x.get("type")), 10).get("step"))) assertEquals(next++, (long) s);
        }
      }
    }
    try (TestServer.Client c = server.client()) {   // and on a finished run, from any step
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"all\",\"from_step\":299001}");
      c.next(runState(run, "finished"), 10);
      long next = 299_001;
      while (next <= 300_000) {
        for (double s : nums(c.next(x -> "steps".equals(x.get("type")), 10).get("step"))) assertEquals(next++, (long) s);
      }
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"mode\":\"live\",\"from_step\":5}");
      Map<String, Object> e = c.next(TestServer.type("error"), 10);
      assertTrue(((String) e.get("message")).startsWith("from_step: is for mode \"all\""), e.toString());
    }
  }

  @Test
  void liveModeSendsOneFrameATickAndMaxHzIsACeiling() throws Exception {
    String a = server.create(spec(10_000_000, ",\"steps_per_second\":5000"));
    String b = server.create(spec(10_000_000, ",\"steps_per_second\":300"));
    for (String run : List.of(a, b)) {   // with some history, so that subscribers get an overview first
      MetricsIT.waitUntil(() -> TestServer.num(server.get("/api/runs/" + run).json().get("step")) >= 100);
    }
    try (TestServer.Client slow = server.client(); TestServer.Client fast = server.client()) {
      slow.send("{\"op\":\"subscribe\",\"runs\":[\"" + a + "\",\"" + b + "\"],\"max_hz\":2}");
      fast.send("{\"op\":\"subscribe\",\"runs\":[\"" + a + "\",\"" + b + "\"],\"max_hz\":20}");
      for (TestServer.Client c : List.of(slow, fast)) {   // the overviews first, marked
        for (int i = 0; i < 2; i++) {
          Map<String, Object> o = c.nextRaw(x -> "steps".equals(x.get("type")), 10);
          assertTrue(o.containsKey("downsampled"), "an overview says whether it was downsampled: " + o.keySet());
        }
      }
      // three seconds of frames by the server's clock, from the first frame each client reads
      Map<TestServer.Client, Map<String, Integer>> updates = new HashMap<>();
      for (TestServer.Client c : List.of(slow, fast)) {
        Map<String, Integer> n = new HashMap<>();
        updates.put(c, n);
        long first = -1;
        while (true) {
          Map<String, Object> f = c.nextRaw(x -> !"run".equals(x.get("type")) && !"alert".equals(x.get("type")), 5);
          assertEquals("frame", f.get("type"), "live updates come in frames only");
          long t = (long) TestServer.num(f.get("t"));
          if (first < 0) first = t;
          if (t - first >= 3000) break;
          for (Object e : (List<?>) f.get("runs")) {
            Map<?, ?> entry = (Map<?, ?>) e;
            assertTrue(entry.keySet().containsAll(List.of("run", "cycle", "step", "loss", "lr", "grad_norm", "t")));
            n.merge((String) entry.get("run"), 1, Integer::sum);
          }
        }
      }
      // 3 s of updates at most: the wall clock enters a new interval at most 3 × hz + 1 times
      for (String run : List.of(a, b)) {
        assertTrue(updates.get(slow).getOrDefault(run, 0) <= 7, "max_hz 2: " + updates.get(slow));
        assertTrue(updates.get(fast).getOrDefault(run, 0) <= 61, "max_hz 20: " + updates.get(fast));
        // how many of the 60 a loaded machine delivers is the benchmark's business: here, only more than max_hz 2
        assertTrue(updates.get(fast).getOrDefault(run, 0) > updates.get(slow).getOrDefault(run, 0),
            "max_hz 20 sends more than max_hz 2: " + updates);
      }
    }
  }

  @Test
  void aLiveClientThatFallsBehindReadsFreshStepsNotAQueueOfStaleOnes() throws Exception {
    String run = server.create(spec(10_000_000, ",\"steps_per_second\":2000"));
    try (TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"" + run + "\"],\"max_hz\":50}");
      c.nextRaw(x -> "frame".equals(x.get("type")), 10);
      c.ws.pause();   // the scenario: it reads nothing for 3 s, well under the 10 s that would cut it off
      TimeUnit.SECONDS.sleep(3);
      c.inbox.clear();   // what the client had received before it paused
      // fresh, by the run's own clock: a frame holding a step the run had taken by the time the client read again
      double stepWhenRead = TestServer.num(server.get("/api/runs/" + run).json().get("step"));
      c.ws.resume();
      int stale = 0;
      while (true) {   // the client reads again
        Map<String, Object> f = c.nextRaw(x -> "frame".equals(x.get("type")), 10);
        List<Double> steps = nums(((Map<?, ?>) ((List<?>) f.get("runs")).get(0)).get("step"));
        double step = steps.get(steps.size() - 1);
        if (step >= stepWhenRead) break;
        stale++;
      }
      // 3 s at 50 Hz would be 150 frames queued; it gets the few sent before the server saw it fall behind
      // (plus what its own client library had buffered), then fresh steps
      assertTrue(stale <= 40, "a paused client reads few stale frames: " + stale);
    }
  }
}
