package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static io.losswatch.web.TestServer.runState;
import static io.losswatch.web.TestServer.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The REST API over real HTTP. */
class RestApiIT extends SharedServer {
  private static final String PACED = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001},"
      + "\"steps\":100000,\"steps_per_second\":100}";

  @Test
  void createReturnsTheSummaryAndTheRunTrains() throws Exception {
    TestServer.Response r = server.post("/api/runs", "{\"name\":\"mine\",\"problem\":\"rosenbrock\","
        + "\"optimizer\":{\"type\":\"adam\",\"lr\":0.01},\"steps\":3000}");
    assertEquals(201, r.status());
    assertTrue(r.contentType().startsWith("application/json"));
    Map<String, Object> s = r.json();
    for (String k : List.of("id", "name", "state", "spec", "step", "loss", "lr", "grad_norm", "best_loss",
        "steps_per_second", "created", "updated")) {
      assertTrue(s.containsKey(k), "summary has " + k + ": " + s);
    }
    assertEquals("mine", s.get("name"));
    assertEquals(0.01, ((Map<?, ?>) ((Map<?, ?>) s.get("spec")).get("optimizer")).get("lr"));
    String id = (String) s.get("id");
    try (TestServer.Client c = server.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"]}");
      c.next(runState(id, "finished"), 30);
    }
    Map<String, Object> done = server.get("/api/runs/" + id).json();
    assertEquals("finished", done.get("state"));
    assertEquals(3000.0, TestServer.num(done.get("step")));
    assertTrue(TestServer.num(done.get("best_loss")) <= TestServer.num(done.get("loss")));
    assertTrue(server.get("/api/runs").list().stream().anyMatch(o -> id.equals(((Map<?, ?>) o).get("id"))));
    Map<String, Object> steps = server.get("/api/runs/" + id + "/steps?from=11&to=20").json();
    assertEquals(List.of(11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0), nums(steps.get("step")));
    assertEquals(10, ((List<?>) steps.get("loss")).size());
    Map<String, Object> few = server.get("/api/runs/" + id + "/steps?max_points=40").json();
    assertTrue(((List<?>) few.get("step")).size() <= 40);
    assertEquals(1.0, nums(few.get("step")).get(0), "a bucket keeps its first point");
    assertEquals(3000.0, nums(few.get("step")).get(nums(few.get("step")).size() - 1), "and its last");
  }

  @Test
  void anLrChangeShowsInTheNextStep() throws Exception {
    String id = server.create(PACED);
    try (TestServer.Client c = server.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"],\"mode\":\"all\"}");
      c.next(m -> "steps".equals(m.get("type")) && nums(m.get("step")).contains(3.0), 10);
      TestServer.Response r = server.post("/api/runs/" + id + "/lr", "{\"lr\":0.05}");
      assertEquals(200, r.status(), r.body());
      double at = TestServer.num(r.json().get("step"));   // the last step taken before the change
      Map<String, Object> m = c.next(x -> "steps".equals(x.get("type")) && nums(x.get("step")).contains(at + 1), 10);
      int i = nums(m.get("step")).indexOf(at + 1);
      assertEquals(0.05, nums(m.get("lr")).get(i), "step " + (at + 1) + " runs at the new lr");
    }
    double[] lr = nums(server.get("/api/runs/" + id + "/steps?from=1&to=2").json().get("lr"))
        .stream().mapToDouble(Double::doubleValue).toArray();
    assertEquals(0.001, lr[0], "earlier steps keep the lr they ran at");
    server.request("DELETE", "/api/runs/" + id, null);
  }

  @Test
  void anLrChangeUnderAScheduleScalesItsOutput() throws Exception {
    String id = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.01},"
        + "\"schedule\":{\"type\":\"exponential\",\"gamma\":0.99},\"steps\":100000,\"steps_per_second\":100}");
    try (TestServer.Client c = server.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"],\"mode\":\"all\"}");
      c.next(m -> "steps".equals(m.get("type")) && nums(m.get("step")).contains(3.0), 10);
      double at = TestServer.num(server.post("/api/runs/" + id + "/lr", "{\"lr\":1.0}").json().get("step"));
      Map<String, Object> m = c.next(x -> "steps".equals(x.get("type")) && nums(x.get("step")).contains(at + 2), 10);
      List<Double> steps = nums(m.get("step"));
      List<Double> lrs = nums(m.get("lr"));
      int i = steps.indexOf(at + 2);
      double before = lrs.get(i);
      double expected = 0.99;   // the shape goes on: the next lr is gamma times the new one
      assertEquals(expected, before, 1e-12, "step " + (at + 2) + " lr " + before);
    }
    server.request("DELETE", "/api/runs/" + id, null);
  }

  @Test
  void aDemoRunStartsOverWhenItEnds() throws Exception {
    try (TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      String id = TestServer.await(server.server.manager().launch(io.losswatch.core.RunSpec.parse(
          "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":1.1},\"steps\":20}"), true)).id();
      c.next(runState(id, "finished"), 10);
      Map<String, Object> again = c.next(runState(id, "running"), 10);
      assertEquals(0.0, TestServer.num(((Map<?, ?>) again.get("run")).get("step")), "from the start");
      Map<String, Object> steps = c.next(m -> "steps".equals(m.get("type")) && id.equals(m.get("run")), 10);
      assertEquals(1.0, nums(steps.get("step")).get(0), "its steps count from 1 again");
      assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
    }
  }

  @Test
  void pauseResumeStopAndDeleteDoWhatTheySay() throws Exception {
    String id = server.create(PACED);
    try (TestServer.Client c = server.client()) {
      c.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"],\"mode\":\"all\"}");
      c.next(type("steps"), 10);
      Map<String, Object> paused = server.post("/api/runs/" + id + "/pause", "").json();
      assertEquals("paused", paused.get("state"));
      c.next(runState(id, "paused"), 10);
      double step = TestServer.num(paused.get("step"));
      // while paused, no step arrives within a second (at 100 steps/s, a hundred would have)
      c.inbox.clear();
      assertNull(c.inbox.poll(1, java.util.concurrent.TimeUnit.SECONDS), "nothing streams while paused");
      assertEquals(step, TestServer.num(server.get("/api/runs/" + id).json().get("step")));
      assertEquals(409, server.post("/api/runs/" + id + "/pause", "").status(), "already paused");
      assertEquals("running", server.post("/api/runs/" + id + "/resume", "").json().get("state"));
      Map<String, Object> more = c.next(type("steps"), 10);
      assertEquals(step + 1, nums(more.get("step")).get(0), "it goes on where it stopped");
      assertEquals("stopped", server.post("/api/runs/" + id + "/stop", "").json().get("state"));
      c.next(runState(id, "stopped"), 10);
      assertEquals(409, server.post("/api/runs/" + id + "/resume", "").status());
      assertEquals(409, server.post("/api/runs/" + id + "/lr", "{\"lr\":0.1}").status());
      assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
      c.next(runState(id, "deleted"), 10);
    }
    assertEquals(404, server.get("/api/runs/" + id).status());
    assertEquals(404, server.request("DELETE", "/api/runs/" + id, null).status());
  }

  @ParameterizedTest(name = "{0} {1} {2} -> {3}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "POST|/api/runs|{not json|400|",
      "POST|/api/runs||400|",
      "POST|/api/runs|[1]|400|",
      "POST|/api/runs|{'problem':'quadratic','optimizer':{'type':'sgd','lr':-1},'steps':10}|400|optimizer.lr",
      "POST|/api/runs|{'problem':'quadratic','optimizer':{'type':'sgd','lr':0.1},'steps':10,'color':'red'}|400|color",
      "POST|/api/runs|{'problem':'quadratic','optimizer':{'type':'sgd','lr':0.1},'steps':10,'steps_per_second':-1}|400|steps_per_second",
      "POST|/api/runs|{'problem':'quadratic','optimizer':{'type':'sgd','lr':0.1},'steps':'ten'}|400|steps",
      "GET|/api/runs/nope||404|id",
      "GET|/api/runs/nope/steps||404|id",
      "POST|/api/runs/nope/lr|{'lr':0.1}|404|id",
      "POST|/api/runs/nope/pause||404|id",
      "DELETE|/api/runs/nope||404|id",
      "GET|/api/nothing||404|",
      "PUT|/api/runs||405|",
  })
  void malformedRequestsGetA4xxJsonErrorAndTheServerKeepsServing(String method, String path, String body,
      int status, String field) throws Exception {
    TestServer.Response r = server.request(method, path, body == null ? null : body.replace('\'', '"'));
    assertEquals(status, r.status(), r.body());
    assertTrue(r.contentType().startsWith("application/json"), r.contentType());
    Map<String, Object> e = r.json();
    assertTrue(e.get("error") instanceof String msg && !msg.isEmpty(), r.body());
    assertFalse(r.body().contains("Exception") || r.body().contains("\tat ") || r.body().contains(".java:"),
        "no stack trace: " + r.body());
    assertEquals(field, e.get("field"));
    if (field != null) assertTrue(((String) e.get("error")).startsWith(field + ": ") || field.equals("id"), r.body());
    assertEquals(200, server.get("/health").status(), "still serving");
  }

  @Test
  void badQueriesAndBadBodiesOnAnExistingRun() throws Exception {
    String id = server.create(PACED);
    TestServer.Response r = server.get("/api/runs/" + id + "/steps?from=abc");
    assertEquals(400, r.status());
    assertEquals("from", r.json().get("field"));
    assertEquals("from: must be an integer, got \"abc\"", r.json().get("error"));
    assertEquals(400, server.get("/api/runs/" + id + "/steps?from=5&to=2").status());
    assertEquals(400, server.get("/api/runs/" + id + "/steps?max_points=2").status());
    r = server.post("/api/runs/" + id + "/lr", "{\"lr\":0}");
    assertEquals(400, r.status());
    assertEquals("lr: must be > 0, got 0", r.json().get("error"));
    assertEquals("lr", r.json().get("field"));
    assertEquals(400, server.post("/api/runs/" + id + "/lr", "{\"lr\":0.1,\"when\":3}").status());
    assertEquals(400, server.post("/api/runs/" + id + "/lr", "{}").status());
    String huge = "{\"name\":\"" + "x".repeat(70 * 1024) + "\"}";
    r = server.post("/api/runs", huge);
    assertEquals(413, r.status());
    assertTrue(r.json().get("error") instanceof String);
    assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
    assertEquals(200, server.get("/health").status());
  }
}
