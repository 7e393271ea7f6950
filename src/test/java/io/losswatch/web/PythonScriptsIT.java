package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Python;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python client ({@code clients/python/losswatch}) against the real server: scripts run by Debian's
 * /usr/bin/python3 as subprocesses, and what they did is checked here over REST. The PyTorch ones skip with a
 * notice where python3-torch is missing, and fail under LOSSWATCH_REQUIRE_TOOLS=1.
 */
class PythonScriptsIT {
  private static String url(TestServer s) {
    return "http://127.0.0.1:" + s.port();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> lrChanges(Map<String, Object> summary) {
    Object o = summary.get("lr_changes");
    return o == null ? List.of() : (List<Map<String, Object>>) o;
  }

  private static Map<String, Object> summary(TestServer s, String id) throws Exception {
    TestServer.Response r = s.get("/api/runs/" + id);
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  private static Map<String, Object> steps(TestServer s, String id) throws Exception {
    TestServer.Response r = s.get("/api/runs/" + id + "/steps");
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  /** Polls the run's summary until it matches; returns it. */
  private static Map<String, Object> until(TestServer s, String id, Predicate<Map<String, Object>> p, long seconds,
      Python script) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      Map<String, Object> m = summary(s, id);
      if (p.test(m)) return m;
      assertTrue(System.nanoTime() < end, "timed out; the run is " + m + "\n" + script.output());
      Thread.sleep(50);
    }
  }

  private static long step(Map<String, Object> summary) {
    return ((Number) summary.get("step")).longValue();
  }

  @Test
  void unitTestsOfTheClientPass(@TempDir Path dir) throws Exception {
    Python.require(false, "the Python client's unit tests");
    Map.Entry<Integer, String> r = Python.run(dir, 300, Python.PYTHON.toString(), "-B", "-m", "unittest", "discover",
        "-v", "-s", Python.repo().resolve("clients/python/tests").toString());
    assertEquals(0, r.getKey(), r.getValue());
    assertTrue(r.getValue().contains("OK"), r.getValue());
  }

  @Test
  void everyLoggedStepArrivesOnceInOrderWithGapsScalarsAndNonFiniteValues(@TempDir Path dir) throws Exception {
    Python.require(false, "the Python client against the server");
    try (TestServer s = new TestServer(); Python script = Python.start(dir, "clients/python/tests/scripts/exact.py", url(s))) {
      script.awaitSuccess(120);
      Map<String, Object> logged = script.await("done", 1);
      String id = (String) logged.get("id");
      assertEquals(0, ((Number) logged.get("dropped")).intValue(), script.output());
      Map<String, Object> run = summary(s, id);
      assertEquals("finished", run.get("state"), run.toString());
      assertEquals("external", run.get("source"));
      assertEquals("exact", run.get("name"));

      Map<String, Object> got = steps(s, id);
      assertEquals(logged.get("step"), got.get("step"), "the steps, once each, in order, gaps kept");
      List<?> steps = (List<?>) logged.get("step");
      assertEquals(14 + 4096, steps.size());
      for (String column : List.of("loss", "lr", "grad_norm")) {
        assertSameNumbers(column, (List<?>) logged.get(column), (List<?>) got.get(column));
      }
      Map<String, Object> metrics = map(got.get("metrics"));
      for (Map.Entry<String, Object> m : map(logged.get("metrics")).entrySet()) {
        assertSameNumbers(m.getKey(), (List<?>) m.getValue(), (List<?>) metrics.get(m.getKey()));
      }
      List<Double> t = nums(got.get("t"));
      for (int i = 1; i < t.size(); i++) assertTrue(t.get(i) >= t.get(i - 1), "t never goes back");
    }
  }

  /**
   * A script shaped like a real one (DataLoader with two forked workers, two param groups under StepLR, the loss
   * as a tensor, watch() filling in lr and the gradient norm, validation metrics every epoch): every step arrives
   * once, with the values the script had; a forked child's log() is refused with the remedy and adds nothing.
   */
  @Test
  @SuppressWarnings("unchecked")
  void aRealisticScriptsStepsArriveOnceAndExactAndAForkedChildIsToldNo(@TempDir Path dir) throws Exception {
    Python.require(true, "a realistic PyTorch script");
    try (TestServer s = new TestServer();
         Python script = Python.start(dir, "clients/python/tests/scripts/realistic.py", url(s), "--epochs", "3")) {
      script.awaitSuccess(300);
      Map<String, Object> child = script.await("child", 1);
      assertTrue(((String) child.get("said")).contains("forked from process"), child.toString());
      assertTrue(((String) child.get("said")).contains("init(resume="), child.toString());
      Map<String, Object> done = script.await("done", 1);
      assertEquals(null, done.get("stopped"), "the run was never ended under the script:\n" + script.output());
      assertEquals(0, ((Number) done.get("dropped")).intValue());
      assertEquals(0, ((Number) done.get("unsent")).intValue());
      String id = (String) done.get("id");
      assertEquals("finished", summary(s, id).get("state"));
      Map<String, Object> logged = map(done.get("logged"));
      Map<String, Object> got = steps(s, id);
      assertEquals(logged.get("step"), got.get("step"), "every step once, in order");
      assertSameNumbers("loss", (List<?>) logged.get("loss"), (List<?>) got.get("loss"));
      assertSameNumbers("lr", (List<?>) logged.get("lr"), (List<?>) got.get("lr"));
      List<Double> want = nums(logged.get("grad_norm"));
      List<Double> norms = nums(got.get("grad_norm"));
      for (int i = 0; i < want.size(); i++) {
        assertEquals(want.get(i), norms.get(i), want.get(i) * 1e-12 + 1e-300, "grad_norm (watch) at index " + i);
      }
      // val_loss, logged on the validation steps only: NaN on the others
      Map<String, Object> valLoss = map(logged.get("val_loss"));
      List<Double> stored = nums(map(got.get("metrics")).get("val_loss"));
      List<Double> steps = nums(got.get("step"));
      for (int i = 0; i < steps.size(); i++) {
        Object v = valLoss.get(Long.toString(steps.get(i).longValue()));
        double w = v == null ? Double.NaN : num(v);
        assertEquals(Double.doubleToLongBits(w), Double.doubleToLongBits(stored.get(i)), "val_loss at step " + steps.get(i));
      }
      assertEquals(3, valLoss.size());
    }
  }

  /**
   * Metric names as people write them ({@code val/acc}) and tags and notes from {@code init}: waits on the server
   * taking them (protocol item 8); until then the client leaves them out, says so once, and loses no step (the
   * test above holds that part).
   */
  @Test
  @SuppressWarnings("unchecked")
  void metricNamesAsPeopleWriteThemTagsAndNotesReachTheServer(@TempDir Path dir) throws Exception {
    Python.require(true, "a realistic PyTorch script");
    try (TestServer s = new TestServer();
         Python script = Python.start(dir, "clients/python/tests/scripts/realistic.py", url(s), "--epochs", "1")) {
      script.awaitSuccess(300);
      String err = script.stderr();
      assertFalse(err.contains("does not take tags") || err.contains("is not sent"),
          "the server takes tags, notes and metric names with / and . (protocol item 8):\n" + err);
      Map<String, Object> done = script.await("done", 1);
      String id = (String) done.get("id");
      Map<String, Object> run = summary(s, id);
      assertEquals(List.of("realistic"), run.get("tags"), run.toString());
      assertEquals("a script shaped like a real one", run.get("notes"), run.toString());
      Map<String, Object> metrics = map(steps(s, id).get("metrics"));
      assertTrue(metrics.containsKey("val/acc"), metrics.keySet().toString());
    }
  }

  /** Exactly the same doubles; a value the script left out (null) is NaN on the server. */
  private static void assertSameNumbers(String column, List<?> sent, List<?> stored) {
    assertEquals(sent.size(), stored.size(), column + ": as many values as steps");
    for (int i = 0; i < sent.size(); i++) {
      double want = sent.get(i) == null ? Double.NaN : num(sent.get(i));
      double got = stored.get(i) == null ? Double.NaN : num(stored.get(i));
      assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(got),
          column + "[" + i + "]: sent " + sent.get(i) + ", stored " + stored.get(i));
    }
  }

  @Test
  void lrPauseResumeAndStopFromRestReachTheTorchLoop(@TempDir Path dir) throws Exception {
    Python.require(true, "the PyTorch control test");
    try (TestServer s = new TestServer(); Python script = Python.start(dir, "clients/python/tests/scripts/control.py", url(s))) {
      String id = (String) script.await("created", 60).get("id");
      until(s, id, m -> step(m) >= 50, 60, script);

      // lr: to 0.01, from 0.1 × the schedule: both param groups and the LambdaLR's base_lrs scale by one factor
      TestServer.Response r = s.post("/api/runs/" + id + "/lr", "{\"lr\":0.01}");
      assertEquals(200, r.status(), r.body());
      Map<String, Object> change = script.await("lr", 30);
      long at = ((Number) change.get("step")).longValue();
      Map<String, Object> after = until(s, id, m -> step(m) >= at + 100 && !lrChanges(m).isEmpty(), 30, script);
      Map<String, Object> recorded = lrChanges(after).get(lrChanges(after).size() - 1);
      assertEquals(at, ((Number) recorded.get("step")).longValue(), "acknowledged at the step it took effect: "
          + recorded);
      // one factor (0.01 over the lr the server last saw when the change was asked for) for both param groups and
      // the LambdaLR's base_lrs
      List<Double> lrs = nums(change.get("lrs"));
      List<Double> base = nums(change.get("base_lrs"));
      double factor = base.get(0) / 0.1;
      assertEquals(0.05 * factor, base.get(1), 1e-12, change.toString());
      // the schedule's output at that step (epoch at - 1), scaled, in both groups
      double scheduled = 100.0 / (100.0 + (at - 1));
      assertEquals(0.1 * factor * scheduled, lrs.get(0), 1e-12, change.toString());
      assertEquals(0.05 * factor * scheduled, lrs.get(1), 1e-12, change.toString());
      // recorded with the lrs the script used, before and at that step (its schedule moved on since the change was
      // asked for), not the 0.01 asked for
      assertEquals(lrs.get(0), num(recorded.get("to")), 1e-15, recorded.toString());
      assertEquals(0.1 * 100.0 / (100.0 + (at - 2)), num(recorded.get("from")), 1e-12, recorded.toString());
      // the trajectory: the schedule's output (100/(100 + epoch), epoch = step - 1), scaled from that step on
      Map<String, Object> h = steps(s, id);
      List<Double> steps = nums(h.get("step"));
      List<Double> lr = nums(h.get("lr"));
      for (int i = 0; i < steps.size(); i++) {
        long k = steps.get(i).longValue();
        double want = 0.1 * 100.0 / (100.0 + (k - 1)) * (k >= at ? factor : 1.0);
        assertEquals(want, lr.get(i), want * 1e-9, "lr at step " + k);
      }
      System.out.printf("PythonScriptsIT: lr 0.01 asked when the run was at lr %s: applied at step %d as x%.4f,"
          + " the schedule going on%n", recorded.get("from"), at, factor);

      // pause: the loop blocks inside log() at the step it was about to log; resume releases it
      assertEquals(200, s.post("/api/runs/" + id + "/pause", "{}").status());
      java.util.regex.Pattern said = java.util.regex.Pattern.compile("paused by the server at step (\\d+)");
      MetricsIT.waitUntil(() -> said.matcher(script.stderr()).find(), "the script says it paused");
      java.util.regex.Matcher found = said.matcher(script.stderr());
      assertTrue(found.find());
      long pausedAt = Long.parseLong(found.group(1));
      until(s, id, x -> step(x) == pausedAt - 1, 30, script);   // every step before it arrives
      assertTrue(script.process.isAlive());
      long resumed = System.currentTimeMillis();
      assertEquals(200, s.post("/api/runs/" + id + "/resume", "{}").status());
      until(s, id, x -> step(x) >= pausedAt + 50, 30, script);
      Map<String, Object> resumedSteps = steps(s, id);
      int k = nums(resumedSteps.get("step")).indexOf((double) pausedAt);
      assertTrue(nums(resumedSteps.get("t")).get(k) >= resumed, "no step while paused: step " + pausedAt + " was logged after the"
          + " resume, not before");

      // stop: run.stopped, the loop ends, the script exits, the run is stopped at the step it stopped at
      assertEquals(200, s.post("/api/runs/" + id + "/stop", "{}").status());
      long stoppedAt = ((Number) script.await("stopped", 30).get("step")).longValue();
      script.awaitSuccess(60);
      Map<String, Object> end = until(s, id, m -> !"running".equals(m.get("state")), 30, script);
      assertEquals("stopped", end.get("state"), end.toString());
      List<Double> all = nums(steps(s, id).get("step"));
      assertEquals(stoppedAt, all.size(), "steps 1 to the one it stopped at, each once");
      for (int i = 0; i < all.size(); i++) assertEquals(i + 1, all.get(i).longValue());
    }
  }

  /** Mean of the losses logged at steps [from, to). */
  private static double meanLoss(Map<String, Object> history, long from, long to) {
    List<Double> steps = nums(history.get("step"));
    List<Double> loss = nums(history.get("loss"));
    double sum = 0;
    int n = 0;
    for (int i = 0; i < steps.size(); i++) {
      if (steps.get(i) >= from && steps.get(i) < to) {
        assertTrue(Double.isFinite(loss.get(i)), "a finite loss at step " + steps.get(i));
        sum += loss.get(i);
        n++;
      }
    }
    assertTrue(n > 0, "steps in [" + from + ", " + to + ")");
    return sum / n;
  }

  /**
   * The loss over the 20 steps before an lr change at step {@code at} and 100 to 200 steps after: it came down to
   * under half and below chance (left alone, this run wobbles between 1 and 100 for hundreds of steps).
   */
  private static void assertLossCameDown(TestServer s, String id, long at, String what) throws Exception {
    Map<String, Object> h = steps(s, id);
    double diverged = meanLoss(h, Math.max(1, at - 20), at);
    double recovered = meanLoss(h, at + 100, at + 200);
    System.out.printf("PythonScriptsIT: %s: lr changed at step %d, mean loss %.3g over the 20 steps before,"
        + " %.3g over steps +100 to +200%n", what, at, diverged, recovered);
    // worse than chance (ln 10 = 2.3, where it started): the blow-up had wrecked what the model had learnt
    assertTrue(diverged > Math.log(10), "it had diverged: mean loss " + diverged);
    assertTrue(recovered * 2 < diverged, "the loss came down: " + diverged + " -> " + recovered);
    assertTrue(recovered < 2.0, "... below chance (ln 10 = 2.3): the model learns again: " + recovered);
  }

  @Test
  void theExampleDivergesAndApplyingTheAlertsAdviceBringsTheLossDown(@TempDir Path dir) throws Exception {
    Python.require(true, "the PyTorch example");
    try (TestServer s = new TestServer(); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      try (Python script = Python.start(dir, "examples/torch_mlp.py", "--url", url(s), "--steps", "5000",
          "--pace", "200")) {
        String id = exampleRunId(script);
        // the warm-up takes the lr past what this MLP stands: the loss shoots up, the server says so
        Map<String, Object> alert = c.next(m -> "alert".equals(m.get("type")) && id.equals(m.get("run"))
            && "diverging".equals(m.get("kind")), 60);
        double suggested = num(alert.get("suggested_lr"));
        double lrThen = 5.0 * Math.min(1.0, num(alert.get("step")) / 300.0);
        assertEquals(lrThen / 10, suggested, lrThen / 100, "the advice: ÷10 " + alert);
        TestServer.Response r = s.post("/api/runs/" + id + "/lr", "{\"lr\":" + suggested + "}");
        assertEquals(200, r.status(), r.body());
        Map<String, Object> changed = until(s, id, m -> !lrChanges(m).isEmpty(), 30, script);
        Map<String, Object> change = lrChanges(changed).get(0);
        long at = ((Number) change.get("step")).longValue();
        until(s, id, m -> step(m) >= at + 200, 60, script);
        assertEquals(200, s.post("/api/runs/" + id + "/stop", "{}").status());
        script.awaitSuccess(60);
        assertLossCameDown(s, id, at, "the example (" + alert.get("message") + ")");
        // the lr the optimizer ran with: the warm-up's, scaled by one factor from that step on (the warm-up
        // went on, to 5 × factor)
        // recorded with the lr the script used at that step: the warm-up's there, scaled
        double factor = num(change.get("to")) / (5.0 * Math.min(1.0, at / 300.0));
        Map<String, Object> h = steps(s, id);
        List<Double> steps = nums(h.get("step"));
        List<Double> lr = nums(h.get("lr"));
        for (int i = 0; i < steps.size(); i++) {
          double k = steps.get(i);
          double want = 5.0 * Math.min(1.0, k / 300.0) * (k >= at ? factor : 1.0);
          assertEquals(want, lr.get(i), want * 1e-9, "the lr at step " + k);
        }
      }
    }
  }

  @Test
  void autoLrBringsADivergingTorchRunBack(@TempDir Path dir) throws Exception {
    Python.require(true, "the PyTorch example with auto_lr");
    try (TestServer s = new TestServer();
         Python script = Python.start(dir, "examples/torch_mlp.py", "--url", url(s), "--steps", "5000", "--pace", "200",
             "--auto-lr")) {
      String id = exampleRunId(script);
      Map<String, Object> changed = until(s, id, m -> !lrChanges(m).isEmpty(), 60, script);
      Map<String, Object> first = lrChanges(changed).get(0);
      long at = ((Number) first.get("step")).longValue();
      assertEquals("auto", first.get("cause"), first.toString());
      assertTrue(num(first.get("to")) < num(first.get("from")), "auto_lr lowered the lr: " + first);
      until(s, id, m -> step(m) >= at + 200, 60, script);
      assertEquals(200, s.post("/api/runs/" + id + "/stop", "{}").status());
      script.awaitSuccess(60);
      Map<String, Object> h = steps(s, id);
      if (meanLoss(h, Math.max(1, at - 20), at) > Math.log(10)) {
        assertLossCameDown(s, id, at, "auto_lr (" + first + ")");
      } else {   // it cut the lr as the loss began to climb: the blow-up never came
        double after = meanLoss(h, at + 100, at + 200);
        System.out.printf("PythonScriptsIT: auto_lr cut the lr at step %d, before the blow-up; mean loss %.3g over"
            + " steps +100 to +200%n", at, after);
        assertTrue(after < 2.0, "below chance (ln 10 = 2.3): the model learns: " + after);
      }
    }
  }

  /** The id of the run the example created, from its first line ("run <id>: <url>"). */
  private static String exampleRunId(Python script) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      for (String line : script.stdout().split("\n")) {
        if (line.startsWith("run ")) return line.substring(4, line.indexOf(':'));
      }
      assertTrue(script.process.isAlive() && System.nanoTime() < end, "the example starts:\n" + script.output());
      Thread.sleep(50);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void lrFindStreamsTheRangeTestRestoresTheModelAndSuggestsAsTheServerWould(@TempDir Path dir) throws Exception {
    Python.require(true, "lr_find on a PyTorch model");
    try (TestServer s = new TestServer();
         Python script = Python.start(dir, "clients/python/tests/scripts/lr_find.py", url(s), "--steps", "100")) {
      Map<String, Object> found = script.await("found", 120);
      script.awaitSuccess(30);
      assertEquals(Boolean.TRUE, found.get("restored"), "the model and optimizer came back as they were");
      String id = (String) found.get("run");
      List<Double> lr = nums(found.get("lr"));
      assertTrue(lr.size() < 100, "it stopped when the loss ran away: " + lr.size() + " steps");
      // the server has every step, and its own numbers give the same suggestions
      Map<String, Object> h = steps(s, id);
      assertEquals(lr, nums(h.get("lr")));
      double[] lrs = lr.stream().mapToDouble(Double::doubleValue).toArray();
      double[] smoothed = io.losswatch.core.LrRange.smooth(nums(h.get("loss")).stream().mapToDouble(Double::doubleValue)
          .toArray(), 0.98);
      Map<String, Object> sug = (Map<String, Object>) found.get("suggestions");
      assertEquals(num(sug.get("steepest")), io.losswatch.core.LrRange.steepest(lrs, smoothed));
      assertEquals(num(sug.get("valley")), io.losswatch.core.LrRange.valley(lrs, smoothed, 100));
      assertEquals(num(sug.get("minimum/10")), io.losswatch.core.LrRange.minimumTenth(lrs, smoothed, 100));
      assertEquals("finished", s.get("/api/runs/" + id).json().get("state"));
      assertTrue(s.get("/metrics").body().contains("losswatch_alerts_total{kind=\"diverging\"} 0.0"),
          "a range test blows up on purpose: no alert");
    }
  }

  @Test
  void installsWithPipIntoAVirtualEnvironmentOffline(@TempDir Path dir) throws Exception {
    Python.require(false, "pip install of the Python client");
    Map.Entry<Integer, String> venv = Python.run(dir, 120, Python.PYTHON.toString(), "-m", "venv",
        "--system-site-packages", dir.resolve("venv").toString());
    if (venv.getKey() != 0 || !Files.isExecutable(dir.resolve("venv/bin/pip"))) {
      Python.requireMissing("python3-venv and python3-pip", "pip install of the Python client", venv.getValue());
    }
    // a copy: pip builds in the source folder, which must stay clean
    Path src = dir.resolve("src");
    copy(Python.repo().resolve("clients/python"), src);
    Map.Entry<Integer, String> pip = Python.run(dir, 300, dir.resolve("venv/bin/pip").toString(), "install",
        "--no-build-isolation", "--no-index", src.toString());
    assertEquals(0, pip.getKey(), pip.getValue());
    Map.Entry<Integer, String> imported = Python.run(dir, 60, dir.resolve("venv/bin/python").toString(), "-c",
        "import losswatch; print(losswatch.__file__); print(losswatch.init.__doc__ is not None)");
    assertEquals(0, imported.getKey(), imported.getValue());
    assertTrue(imported.getValue().startsWith(dir.resolve("venv").toString()), imported.getValue());
    // the console script: losswatch sync …, as python3 -m losswatch
    Map.Entry<Integer, String> help = Python.run(dir, 60, dir.resolve("venv/bin/losswatch").toString(), "--help");
    assertEquals(0, help.getKey(), help.getValue());
    assertTrue(help.getValue().contains("sync"), help.getValue());
  }

  private static void copy(Path from, Path to) throws Exception {
    try (var files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (p.toString().contains("__pycache__")) continue;
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(target);
        else Files.copy(p, target);
      }
    }
  }
}
