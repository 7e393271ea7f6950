package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sweeps and range tests at the ends of a double: refused naming what the user sent, never run with an infinite lr. */
class ExtremeRangesIT extends SharedServer {
  private static final String BASE = "\"base\":{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\"},\"steps\":20}";

  private Map<String, Object> refused(String path, String body) throws Exception {
    TestServer.Response r = server.post(path, body);
    assertEquals(400, r.status(), body + " → " + r.body());
    return r.json();
  }

  @Test
  void aSweepBeyondTheLrBoundsBlamesFromOrTo() throws Exception {
    int runs = server.get("/api/runs").list().size();
    Map<String, Object> r = refused("/api/sweeps", "{" + BASE + ",\"lr\":{\"from\":1e-300,\"to\":1e300,\"num\":200}}");
    assertEquals("lr.from", r.get("field"));
    assertEquals("lr.from: must be an lr in [1e-12, 1e6], got 1.0E-300", r.get("error"));
    r = refused("/api/sweeps", "{" + BASE + ",\"lr\":{\"from\":1e-3,\"to\":1e300,\"factor\":10}}");
    assertEquals("lr.to", r.get("field"));
    r = refused("/api/sweeps", "{" + BASE + ",\"lr\":[0.1,1e7]}");
    assertTrue(String.valueOf(r.get("field")).startsWith("lr"), r.toString());
    assertTrue(((String) r.get("error")).contains("[1e-12, 1e6]"), r.toString());
    assertEquals(runs, server.get("/api/runs").list().size(), "no run started");

    // at the bounds: finite, positive lrs, evenly spaced in log, exact at both ends
    TestServer.Response ok = server.post("/api/sweeps", "{" + BASE + ",\"lr\":{\"from\":1e-12,\"to\":1e6,\"num\":4}}");
    assertEquals(201, ok.status(), ok.body());
    List<Double> lrs = new java.util.ArrayList<>();
    for (Object run : (List<?>) ok.json().get("runs")) {
      lrs.add(TestServer.num(((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) run).get("spec")).get("optimizer")).get("lr")));
    }
    assertEquals(List.of(1e-12, 1e-6, 1.0, 1e6), lrs);
  }

  @Test
  void aRangeTestWhoseLrsWouldNotAllBeFiniteIsRefused() throws Exception {
    int runs = server.get("/api/runs").list().size();
    Map<String, Object> r = refused("/api/lr-range", "{" + BASE + ",\"start_lr\":1e-300,\"end_lr\":1e300}");
    assertEquals("start_lr", r.get("field"));
    assertEquals("start_lr: must be an lr in [1e-12, 1e6], got 1.0E-300", r.get("error"));
    r = refused("/api/lr-range", "{" + BASE + ",\"start_lr\":1e-3,\"end_lr\":1e300}");
    assertEquals("end_lr", r.get("field"));
    // the same ramp as a run's own schedule: every step's lr must be finite
    r = refused("/api/runs", "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":1e-300},\"steps\":10,"
        + "\"schedule\":{\"type\":\"lr_range\",\"end_lr\":1e300,\"num_steps\":10}}");
    assertEquals("schedule.end_lr", r.get("field"));
    assertTrue(((String) r.get("error")).contains("overflows"), r.toString());
    assertEquals(runs, server.get("/api/runs").list().size(), "no run started");

    // from one bound to the other: every lr finite and positive
    TestServer.Response ok = server.post("/api/lr-range", "{" + BASE + ",\"start_lr\":1e-12,\"end_lr\":1e6,\"num_steps\":10}");
    assertEquals(200, ok.status(), ok.body());
    for (double lr : nums(ok.json().get("lr"))) assertTrue(lr > 0 && Double.isFinite(lr), "lr " + lr);
  }

  @Test
  void aRangeTestOfAnExternalRunBlamesWhatWasSent() throws Exception {
    Map<String, Object> r = refused("/api/lr-range", "{\"base\":{\"source\":\"external\"}}");
    assertEquals("base.source", r.get("field"));
    assertTrue(((String) r.get("error")).startsWith("base.source: a range test trains a built-in run"), r.toString());
  }
}
