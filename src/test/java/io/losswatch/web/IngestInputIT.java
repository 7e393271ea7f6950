package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a script may send in an append, and how the server says what it refused: the real limit, field and value. */
class IngestInputIT extends SharedServer {
  private static final String EXTERNAL = "{\"source\":\"external\",\"name\":\"%s\",\"optimizer\":{\"type\":\"adamw\","
      + "\"lr\":0.001}}";

  private String create(String name) throws Exception {
    return server.create(EXTERNAL.formatted(name));
  }

  private Map<String, Object> refused(int status, String id, String body) throws Exception {
    TestServer.Response r = server.post("/api/runs/" + id + "/steps", body);
    assertEquals(status, r.status(), body.length() > 200 ? body.substring(0, 200) : body + " → " + r.body());
    return r.json();
  }

  @Test
  void anAppendOverItsLimitIsToldTheAppendsLimit() throws Exception {
    String id = create("too big");
    int limit = 4 * 1024 * 1024;
    StringBuilder body = new StringBuilder("{\"step\":[1],\"loss\":[1],\"pad\":\"");
    body.append("x".repeat(limit + 1 - body.length() - 2)).append("\"}");
    assertEquals(limit + 1, body.length());
    Map<String, Object> r = refused(413, id, body.toString());
    assertEquals("the body is over 4194304 bytes (4 MiB), the most one append may carry; send the steps in parts",
        r.get("error"));
    // other routes keep their own, smaller limit, and say it
    TestServer.Response big = server.post("/api/runs", "{\"name\":\"" + "x".repeat(70 * 1024) + "\"}");
    assertEquals(413, big.status());
    assertEquals("the body is over 65536 bytes (64 KiB), the most this request may carry", big.json().get("error"));
    assertEquals(List.of(), nums(server.get("/api/runs/" + id + "/steps").json().get("step")), "nothing stored");
  }

  @Test
  void aStepIsAnIntegerWrittenAsOneUpTo2To53() throws Exception {
    String id = create("steps");
    String rule = "must be an integer from 1 to 9007199254740992 (2^53), written with digits only, got ";
    for (String step : List.of("4503599627370497.5", "7.0000000000000001", "7.0", "7e0", "70E-1", "-3", "0",
        "9007199254740993", "18446744073709551617")) {
      Map<String, Object> r = refused(400, id, "{\"step\":[1," + step + "],\"loss\":[1,1]}");
      assertEquals("step[1]: " + rule + step, r.get("error"), step);
      assertEquals("step[1]", r.get("field"));
    }
    Map<String, Object> r = refused(400, id, "{\"step\":[1],\"loss\":[1],\"t\":[1700000000000.5]}");
    assertEquals("t[0]: " + rule + "1700000000000.5", r.get("error"));
    r = refused(400, id, "{\"step\":[1],\"loss\":[1],\"acks\":[{\"id\":\"c1\",\"step\":2.5}]}");
    assertEquals("acks[0].step: must be an integer from 0 to 2^53, got 2.5", r.get("error"), "an ack's step may be 0: a rewind to the start");
    assertEquals(List.of(), nums(server.get("/api/runs/" + id + "/steps").json().get("step")), "nothing stored");

    // 2^53 itself is a step, kept and quoted exactly
    TestServer.Response ok = server.post("/api/runs/" + id + "/steps", "{\"step\":[7,9007199254740992],\"loss\":[1,2]}");
    assertEquals(200, ok.status(), ok.body());
    assertTrue(ok.body().contains("\"last_step\":9007199254740992"), ok.body());
    String steps = server.get("/api/runs/" + id + "/steps?from=9007199254740992").body();
    assertTrue(steps.contains("\"step\":[9007199254740992]"), steps);
    r = refused(400, id, "{\"step\":[9007199254740992,8],\"loss\":[1,1]}");
    assertEquals("step[1]: steps must increase: step[0] is 9007199254740992, got 8", r.get("error"));
  }

  @Test
  void aSparseRunIsReadWholeItsLimitCountsSteps() throws Exception {
    String id = create("sparse");
    StringBuilder step = new StringBuilder();
    StringBuilder loss = new StringBuilder();
    for (int k = 1; k <= 3000; k++) {   // 3,000 steps: 1,000 … 3,000,000
      step.append(k > 1 ? "," : "").append(k * 1000);
      loss.append(k > 1 ? "," : "").append(1.0 / k);
    }
    assertEquals(200, server.post("/api/runs/" + id + "/steps", "{\"step\":[" + step + "],\"loss\":[" + loss + "]}").status());
    TestServer.Response r = server.get("/api/runs/" + id + "/steps");
    assertEquals(200, r.status(), r.body());
    List<Double> steps = nums(r.json().get("step"));
    assertEquals(3000, steps.size());
    assertEquals(3_000_000.0, steps.get(2999));
    assertEquals(1000, nums(server.get("/api/runs/" + id + "/steps?from=2000001&to=99000000").json().get("step")).size());
  }

  @Test
  void aNegativeLrIsRefusedNaNZeroAndInfinityAreNot() throws Exception {
    String id = create("lrs");
    String must = "must be >= 0 (null or \"NaN\" when not known), got ";
    Map<String, String> bad = Map.of("-0.05", "-0.05", "\"-Infinity\"", "-Infinity", "-1e-300", "-1.0E-300");
    for (var e : bad.entrySet()) {
      Map<String, Object> r = refused(400, id, "{\"step\":[1,2],\"loss\":[1,1],\"lr\":[0.1," + e.getKey() + "]}");
      assertEquals("lr[1]: " + must + e.getValue(), r.get("error"), e.getKey());
      assertEquals("lr[1]", r.get("field"));
    }
    Map<String, Object> r = refused(400, id, "{\"step\":[1],\"loss\":[1],\"lr\":[\"fast\"]}");
    assertEquals("lr[0]", r.get("field"));
    assertEquals(List.of(), nums(server.get("/api/runs/" + id + "/steps").json().get("step")), "nothing stored");
    TestServer.Response ok = server.post("/api/runs/" + id + "/steps",
        "{\"step\":[1,2,3,4,5],\"loss\":[1,1,1,1,1],\"lr\":[0.1,null,\"NaN\",0,\"Infinity\"]}");
    assertEquals(200, ok.status(), ok.body());
  }

  @Test
  @SuppressWarnings("unchecked")
  void applyAdviceNeverQueuesAnLrThatLrItselfWouldRefuse() throws Exception {
    String id = create("annealed to zero");
    // a schedule that ended at lr 0, then a NaN loss: "cut the lr ÷10" has no lr to cut to
    TestServer.Response a = server.post("/api/runs/" + id + "/steps", "{\"step\":[1,2],\"loss\":[0.5,null],\"lr\":[0,0]}");
    assertEquals(200, a.status(), a.body());
    long end = System.nanoTime() + 10_000_000_000L;
    while (!"non_finite".equals(((Map<String, Object>) server.get("/api/runs/" + id).json().get("diagnosis")).get("verdict"))) {
      assertTrue(System.nanoTime() < end, "diagnosed non_finite: " + server.get("/api/runs/" + id).body());
      Thread.sleep(20);
    }
    TestServer.Response applied = server.post("/api/runs/" + id + "/apply-advice", "");
    assertEquals(409, applied.status(), applied.body());
    assertTrue(((String) applied.json().get("error")).contains("no advice to apply"), applied.body());
    assertEquals(400, server.post("/api/runs/" + id + "/lr", "{\"lr\":0}").status(), "as /lr refuses it");
    TestServer.Response poll = server.post("/api/runs/" + id + "/steps", "{}");
    assertEquals(200, poll.status(), poll.body());
    assertEquals(List.of(), poll.json().get("commands"), "no lr command queued");
  }
}
