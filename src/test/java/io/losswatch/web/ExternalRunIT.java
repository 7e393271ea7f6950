package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A training script's own run, over the ingest API: its steps everywhere a built-in run's go, and its commands. */
class ExternalRunIT extends SharedServer {
  private static final String EXTERNAL = "{\"source\":\"external\",\"name\":\"%s\",\"config\":{\"batch\":64},"
      + "\"optimizer\":{\"type\":\"adamw\",\"lr\":0.001}%s}";

  private String create(String name, String more) throws Exception {
    return server.create(EXTERNAL.formatted(name, more));
  }

  private Map<String, Object> append(String id, String body) throws Exception {
    TestServer.Response r = server.post("/api/runs/" + id + "/steps", body);
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> commands(Map<String, Object> answer) {
    return (List<Map<String, Object>>) answer.get("commands");
  }

  @Test
  void stepsWithGapsNonFiniteValuesAndExtraScalarsArriveEverywhereExactlyOnce() throws Exception {
    try (TestServer.Client all = server.client()) {
      all.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"all\"}");
      String id = create("gaps", "");
      Map<String, Object> summary = server.get("/api/runs/" + id).json();
      assertEquals("external", summary.get("source"));
      assertEquals("running", summary.get("state"));
      assertEquals(Map.of("batch", 64.0), ((Map<?, ?>) summary.get("spec")).get("config"));

      Map<String, Object> a = append(id, "{\"step\":[1,2,5,10],\"loss\":[2.5,2.25,null,\"Infinity\"],\"lr\":[0.001,0.001,"
          + "0.001,0.001],\"grad_norm\":[3,2,1,\"-Infinity\"],\"metrics\":{\"val_acc\":[0.1,\"NaN\",0.3,0.4]}}");
      assertEquals(4.0, a.get("accepted"));
      assertEquals(10.0, a.get("last_step"));
      // resent, with one new step: the four are skipped and counted, never stored twice
      a = append(id, "{\"step\":[1,2,5,10,20],\"loss\":[2.5,2.25,1,1,0.5],\"metrics\":{\"val_acc\":[0,0,0,0,0.9]}}");
      assertEquals(1.0, a.get("accepted"));
      assertEquals(4.0, a.get("duplicates"));

      Map<String, Object> steps = server.get("/api/runs/" + id + "/steps").json();
      assertEquals(List.of(1.0, 2.0, 5.0, 10.0, 20.0), nums(steps.get("step")));
      List<Double> loss = nums(steps.get("loss"));
      assertEquals(List.of(2.5, 2.25), loss.subList(0, 2));
      assertTrue(Double.isNaN(loss.get(2)), "null is NaN");
      assertEquals(Double.POSITIVE_INFINITY, loss.get(3));
      assertEquals(Double.NEGATIVE_INFINITY, nums(steps.get("grad_norm")).get(3));
      List<Double> acc = nums(((Map<?, ?>) steps.get("metrics")).get("val_acc"));
      assertEquals(0.1, acc.get(0));
      assertEquals(0.9, acc.get(4));
      assertEquals("step,loss,lr,grad_norm,val_acc\n1,2.5,0.001,3.0,0.1\n2,2.25,0.001,2.0,NaN\n5,NaN,0.001,1.0,0.3\n"
          + "10,Infinity,0.001,-Infinity,0.4\n20,0.5,NaN,NaN,0.9\n", server.get("/api/runs/" + id + "/steps.csv").body());

      // the all-mode subscriber got each step once, in order, with its extra scalar
      List<Double> got = new ArrayList<>();
      List<Double> gotAcc = new ArrayList<>();
      while (got.size() < 5) {
        Map<String, Object> m = all.next(x -> id.equals(x.get("run")) && "steps".equals(x.get("type")), 10);
        got.addAll(nums(m.get("step")));
        gotAcc.addAll(nums(((Map<?, ?>) m.get("metrics")).get("val_acc")));
      }
      assertEquals(List.of(1.0, 2.0, 5.0, 10.0, 20.0), got);
      assertEquals(0.9, gotAcc.get(4));
      assertTrue(server.get("/metrics").body().contains("losswatch_metric{name=\"gaps\",optimizer=\"adamw\","
          + "problem=\"external\",run=\"" + id + "\",schedule=\"external\",metric=\"val_acc\"} 0.9"));

      assertEquals("finished", server.post("/api/runs/" + id + "/finish", "{\"state\":\"finished\"}").json().get("state"));
      all.next(runState(id, "finished"), 10);
      TestServer.Response late = server.post("/api/runs/" + id + "/steps", "{\"step\":[30],\"loss\":[1]}");
      assertEquals(409, late.status(), late.body());
      assertEquals("finished", late.json().get("state"), "a 409 to an append names the state the run ended in");
    }
  }

  @Test
  void commandsReachTheScriptUntilItAcknowledgesThem() throws Exception {
    String id = create("commands", "");
    append(id, "{\"step\":[1,2],\"loss\":[1,0.9],\"lr\":[0.001,0.001]}");
    assertEquals(200, server.post("/api/runs/" + id + "/lr", "{\"lr\":0.0001}").status());
    Map<String, Object> a = append(id, "{\"step\":[3],\"loss\":[0.8],\"lr\":[0.001]}");
    Map<String, Object> lr = commands(a).get(0);
    assertEquals("lr", lr.get("op"));
    assertEquals(0.0001, lr.get("lr"));
    assertEquals(0.1, (Double) lr.get("factor"), 1e-12);
    a = append(id, "{\"step\":[],\"loss\":[]}");
    assertEquals(lr.get("id"), commands(a).get(0).get("id"), "repeated until acknowledged");
    a = append(id, "{\"step\":[4],\"loss\":[0.7],\"lr\":[0.0001],\"acks\":[{\"id\":\"" + lr.get("id") + "\",\"step\":4}]}");
    assertEquals(List.of(), commands(a));
    Map<?, ?> change = (Map<?, ?>) ((List<?>) server.get("/api/runs/" + id).json().get("lr_changes")).get(0);
    assertEquals(4.0, change.get("step"), "recorded at the step the script applied it");
    assertEquals(0.0001, change.get("to"));
    assertEquals("set", change.get("cause"));

    assertEquals("paused", server.post("/api/runs/" + id + "/pause", "").json().get("state"));
    a = append(id, "{\"step\":[],\"loss\":[]}");
    assertEquals("pause", commands(a).get(0).get("op"));
    String pause = (String) commands(a).get(0).get("id");
    append(id, "{\"step\":[],\"loss\":[],\"acks\":[{\"id\":\"" + pause + "\",\"step\":5}]}");
    assertEquals("running", server.post("/api/runs/" + id + "/resume", "").json().get("state"));
    a = append(id, "{\"step\":[5],\"loss\":[0.6]}");
    assertEquals("resume", commands(a).get(0).get("op"));

    assertEquals("stopped", server.post("/api/runs/" + id + "/stop", "").json().get("state"));
    a = append(id, "{\"step\":[6],\"loss\":[0.5]}");
    List<Object> ops = commands(a).stream().map(c -> c.get("op")).toList();
    assertTrue(ops.contains("stop") && !ops.contains("resume"), "the script hears it is stopped: " + ops);
    String stop = (String) commands(a).stream().filter(c -> "stop".equals(c.get("op"))).findFirst().orElseThrow().get("id");
    append(id, "{\"step\":[],\"loss\":[],\"acks\":[{\"id\":\"" + stop + "\",\"step\":7}]}");
    MetricsIT.waitUntil(() -> server.post("/api/runs/" + id + "/steps", "{\"step\":[7],\"loss\":[0.4]}").status() == 409,
        "once it heard, the run takes no more steps");
  }

  @Test
  void aDivergingScriptGetsTheAlertAndTheAdviceAsACommand() throws Exception {
    try (TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"]}");
      String id = create("diverging", ",\"auto_lr\":true");
      StringBuilder steps = new StringBuilder();
      StringBuilder loss = new StringBuilder();
      StringBuilder lr = new StringBuilder();
      for (int s = 1; s <= 60; s++) {   // x² with lr 1.1: the loss grows 1.44× a step
        steps.append(s > 1 ? "," : "").append(s);
        loss.append(s > 1 ? "," : "").append(100 * Math.pow(1.44, s));
        lr.append(s > 1 ? "," : "").append(1.1);
      }
      Map<String, Object> a = append(id, "{\"step\":[" + steps + "],\"loss\":[" + loss + "],\"lr\":[" + lr + "]}");
      Map<String, Object> alert = c.next(m -> "alert".equals(m.get("type")) && id.equals(m.get("run")), 10);
      assertEquals("diverging", alert.get("kind"));
      Map<String, Object> cmd = commands(a).stream().filter(x -> "lr".equals(x.get("op"))).findFirst().orElseThrow();
      assertTrue((Double) cmd.get("lr") < 1.1, "auto_lr sends the lower lr the advice names: " + cmd);
      assertEquals((Double) cmd.get("lr") / 1.1, (Double) cmd.get("factor"), 1e-12);
    }
  }

  @Test
  void badAppendsAreRefusedWholeNamingTheFieldAndStoreNothing() throws Exception {
    String id = create("hostile", "");
    append(id, "{\"step\":[1],\"loss\":[1]}");
    Map<String, String> bad = Map.of(
        "{\"step\":[2,\"x\"],\"loss\":[1,1]}", "step[1]",
        "{\"step\":[3,2],\"loss\":[1,1]}", "step[1]",
        "{\"step\":[2,3],\"loss\":[1]}", "loss",
        "{\"step\":[2],\"loss\":[\"lots\"]}", "loss[0]",
        "{\"step\":[2]}", "loss",
        "{\"step\":[2],\"loss\":[1],\"metrics\":{\"9bad\":[1]}}", "metrics.9bad",
        "{\"step\":[2],\"loss\":[1],\"colour\":[1]}", "colour",
        "{\"step\":[0],\"loss\":[1]}", "step[0]",
        "[1,2]", "");
    for (var e : bad.entrySet()) {
      TestServer.Response r = server.post("/api/runs/" + id + "/steps", e.getKey());
      assertEquals(400, r.status(), e.getKey() + " → " + r.body());
      assertEquals(e.getValue(), r.json().getOrDefault("field", ""), e.getKey() + " → " + r.body());
    }
    StringBuilder many = new StringBuilder("{\"step\":[");
    for (int s = 2; s < 100_002; s++) many.append(s > 2 ? "," : "").append(s);
    many.append("],\"loss\":[");
    for (int s = 2; s < 100_002; s++) many.append(s > 2 ? ",1" : "1");
    TestServer.Response big = server.post("/api/runs/" + id + "/steps", many.append("]}").toString());
    assertEquals(413, big.status(), big.body());
    assertEquals(404, server.post("/api/runs/nosuchrun/steps", "{\"step\":[1],\"loss\":[1]}").status());
    String builtin = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":5}");
    // a 409 to an append means the run ended (its body names the state): a built-in run never takes steps at all
    TestServer.Response notScript = server.post("/api/runs/" + builtin + "/steps", "{\"step\":[9],\"loss\":[1]}");
    assertEquals(400, notScript.status(), notScript.body());
    assertEquals("id", notScript.json().get("field"));
    assertEquals(List.of(1.0), nums(server.get("/api/runs/" + id + "/steps").json().get("step")), "nothing stored");
    assertEquals(200, server.get("/health").status());
  }

  @Test
  void aScriptOnAServerWithATokenNeedsIt(@TempDir Path data) throws Exception {
    try (TestServer secured = new TestServer(ServerConfig.defaults().forTest(0).withDataDir(data).withToken("s3cret"))) {
      var create = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + secured.port() + "/api/runs"))
          .header("Content-Type", "application/json").header("Authorization", "Bearer s3cret")
          .POST(java.net.http.HttpRequest.BodyPublishers.ofString(EXTERNAL.formatted("secured", ""))).build();
      String id = (String) ((Map<?, ?>) io.losswatch.core.config.Json.parse(
          secured.http.send(create, java.net.http.HttpResponse.BodyHandlers.ofString()).body())).get("id");
      assertEquals(401, secured.post("/api/runs/" + id + "/steps", "{\"step\":[1],\"loss\":[1]}").status());
    }
  }

  @Test
  void afterARestartAnExternalRunIsInterruptedUntilItsScriptAppendsAgain(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String id;
    try (TestServer first = new TestServer(config)) {
      id = first.create(EXTERNAL.formatted("survivor", ""));
      assertEquals(200, first.post("/api/runs/" + id + "/steps", "{\"step\":[1,2,3],\"loss\":[3,2,1]}").status());
    }
    try (TestServer again = new TestServer(config)) {
      assertEquals("interrupted", again.get("/api/runs/" + id).json().get("state"));
      TestServer.Response r = again.post("/api/runs/" + id + "/steps", "{\"step\":[2,3,4],\"loss\":[2,1,0.5]}");
      assertEquals(200, r.status(), r.body());
      assertEquals(1.0, r.json().get("accepted"));
      assertEquals(2.0, r.json().get("duplicates"));
      assertEquals("running", again.get("/api/runs/" + id).json().get("state"));
      assertEquals(List.of(1.0, 2.0, 3.0, 4.0), nums(again.get("/api/runs/" + id + "/steps").json().get("step")));
    }
  }
}
