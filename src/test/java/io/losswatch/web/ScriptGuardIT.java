package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Python;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20's and 23's behaviours for a script's own run, end to end: Debian's PyTorch trains issue 20's digits MLP
 * ({@code clients/python/tests/scripts/guard.py}) against the real server, which guards it (rewinds), probes it
 * (look-ahead) and takes its curvature; and the client's {@code lr_find} is a range test to the server. The
 * client's side is unit-tested against a stand-in server ({@code clients/python/tests/test_guard.py},
 * {@code test_probe.py}, {@code test_curvature.py}); these wait on the server's side of HELPERS.md's protocol
 * items 3-6 for script runs.
 */
class ScriptGuardIT {

  private static String url(TestServer s) {
    return "http://127.0.0.1:" + s.port();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> list(Object o) {
    return (List<Map<String, Object>>) o;
  }

  /** The script's run: rewound at least once and at most three times, every rewind kept and told, val_acc >= 0.9. */
  private static void guardedToTheEnd(Path dir, String optimizer, String lr, double lrAfterFirst, String... more)
      throws Exception {
    Python.require(true, "the guard on a PyTorch script");
    try (TestServer s = new TestServer();
         Python script = Python.start(dir, "clients/python/tests/scripts/guard.py", Stream.concat(
             Stream.of(url(s), "--optimizer", optimizer, "--lr", lr, "--steps", "3000"), Stream.of(more)).toArray(String[]::new))) {
      String id = (String) script.await("created", 60).get("id");
      Map<String, Object> done = script.await("done", 900);
      script.awaitSuccess(60);
      assertTrue(num(done.get("val_acc")) >= 0.9, "val_acc: " + done + "\n" + script.output());
      List<Map<String, Object>> told = list(done.get("rewinds"));
      assertTrue(!told.isEmpty() && told.size() <= 3, done.toString());
      assertEquals(lrAfterFirst, num(told.get(0).get("lr")), 1e-12);

      Map<String, Object> run = s.get("/api/runs/" + id).json();
      assertEquals("finished", run.get("state"), run.toString());
      List<Map<String, Object>> rewinds = list(run.get("rewinds"));
      assertEquals(told.size(), rewinds.size(), run.toString());
      for (int i = 0; i < told.size(); i++) {
        assertEquals(num(told.get(i).get("to")), num(rewinds.get(i).get("to")), "the step the script went back to");
        assertTrue(List.of("diverging", "non_finite", "spike", "dead").contains(rewinds.get(i).get("why")));
      }
      assertEquals((double) told.size(), num(run.get("cycle")), "a cycle per rewind");
      String verdict = (String) ((Map<?, ?>) run.get("diagnosis")).get("verdict");
      assertFalse(List.of("diverging", "dead").contains(verdict), run.toString());

      // the run as it stands: steps 1..3000 once each; what the rewinds undid, kept apart
      Map<String, Object> steps = s.get("/api/runs/" + id + "/steps?abandoned=true").json();
      List<Double> kept = nums(steps.get("step"));
      assertEquals(3000, kept.size());
      for (int i = 0; i < kept.size(); i++) assertEquals(i + 1.0, kept.get(i));
      List<Map<String, Object>> abandoned = list(steps.get("abandoned"));
      assertEquals(told.size(), abandoned.size());
      for (int i = 0; i < told.size(); i++) {
        List<Double> gone = nums(abandoned.get(i).get("step"));
        assertEquals(num(told.get(i).get("to")) + 1, gone.get(0), "abandoned from the step after the one gone back to");
        assertEquals(num(told.get(i).get("at")), gone.get(gone.size() - 1), "to the last one the script logged");
      }
      System.out.printf("ScriptGuardIT: %s lr %s: rewinds %s (why: %s), val_acc %.3f%n", optimizer, lr, told,
          rewinds.stream().map(x -> x.get("why")).toList(), num(done.get("val_acc")));
    }
  }

  @Test
  void theGuardTakesAdamAtLr1PastItsBlowUpToValAcc0_9(@TempDir Path dir) throws Exception {
    guardedToTheEnd(dir, "adam", "1.0", 0.1);
  }

  @Test
  void theGuardTakesAdamAtLr1ToValAcc0_9AlsoForAScriptThatNamesNoClasses(@TempDir Path dir) throws Exception {
    // as the README's snippet: the trivial level is the first loss, and lr 0.1's leap is an overshoot once lr 1 failed
    guardedToTheEnd(dir, "adam", "1.0", 0.1, "--no-classes");
  }

  @Test
  void theGuardTakesSgdAtLr5PastItsDeadNetworkToValAcc0_9(@TempDir Path dir) throws Exception {
    guardedToTheEnd(dir, "sgd", "5.0", 0.5);
  }

  @Test
  void curvatureFromTheScriptIsStoredWithTheSteps(@TempDir Path dir) throws Exception {
    Python.require(true, "curvature from a PyTorch script");
    try (TestServer s = new TestServer();
         Python script = Python.start(dir, "clients/python/tests/scripts/guard.py", url(s), "--optimizer", "sgd",
             "--lr", "0.05", "--steps", "600", "--curvature-every", "100")) {
      String id = (String) script.await("created", 60).get("id");
      script.await("done", 600);
      script.awaitSuccess(60);
      Map<String, Object> steps = s.get("/api/runs/" + id + "/steps").json();
      List<?> sharpness = (List<?>) steps.get("sharpness");
      List<?> stability = (List<?>) steps.get("stability");
      for (int i = 0; i < 600; i++) {
        boolean measured = (i + 1) % 100 == 0;
        assertEquals(measured, sharpness.get(i) != null, "step " + (i + 1) + ": " + sharpness.get(i));
        if (measured) assertEquals(0.05 * num(sharpness.get(i)) / 3.8, num(stability.get(i)), 1e-9);
      }
      Map<?, ?> curvature = (Map<?, ?>) s.get("/api/runs/" + id).json().get("curvature");
      assertNotNull(curvature);
      assertEquals(3.8, num(curvature.get("threshold")), 1e-12);   // SGD with momentum 0.9: 2 + 2·0.9
      assertEquals(Boolean.FALSE, curvature.get("preconditioned"));
    }
  }

  @Test
  void lrFindIsARangeTestToTheServer(@TempDir Path dir) throws Exception {
    Python.require(true, "lr_find on a PyTorch model");
    try (TestServer s = new TestServer();
         Python script = Python.start(dir, "clients/python/tests/scripts/lr_find.py", url(s), "--steps", "100")) {
      Map<String, Object> found = script.await("found", 120);
      script.awaitSuccess(30);
      String id = (String) found.get("run");
      TestServer.Response r = s.get("/api/lr-range/" + id);
      assertEquals(200, r.status(), r.body());
      Map<?, ?> server = (Map<?, ?>) r.json().get("suggestions");
      Map<?, ?> client = (Map<?, ?>) found.get("suggestions");
      for (String k : List.of("steepest", "valley", "minimum/10")) {
        assertEquals(num(client.get(k)), num(server.get(k)), k + ": the client's and the server's suggestion");
      }
      String metrics = s.get("/metrics").body();
      assertTrue(metrics.contains("optimizer=\"sgd\""), "labelled with the optimizer's type");
      assertTrue(metrics.contains("losswatch_alerts_total{kind=\"diverging\"} 0.0"), "no alerts for a range test");
      assertEquals(null, ((Map<?, ?>) s.get("/api/runs/" + id).json().get("diagnosis")).get("advice"));
    }
  }
}
