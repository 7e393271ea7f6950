package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Python;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20's failures, as its user met them: Debian's PyTorch trains the digits MLP 64-128-64-10 in minibatches of 64
 * ({@code clients/python/tests/scripts/digits_run.py}, a loop as the README writes it) against the real server, and
 * the script reads the run's diagnosis as it trains, as a person watching the page would. A dead network is called
 * dead (never converging) and raises an alert; no advice goes back to the lr that blew up; evidence that says the
 * loss grew quotes the raw loss; applying the advice raises no second alert; auto_lr climbs from SGD at 1e-4 to a
 * trained model and never takes Adam back to the lr 1 it blew up at.
 */
class ScriptAdviceIT {
  private static String url(TestServer s) {
    return "http://127.0.0.1:" + s.port();
  }

  private static Python digits(Path dir, TestServer s, String optimizer, String lr, int steps, boolean autoLr,
      String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of(url(s), "--optimizer", optimizer, "--lr", lr, "--steps", "" + steps));
    if (autoLr) args.add("--auto-lr");
    args.addAll(List.of(more));
    return Python.start(dir, "clients/python/tests/scripts/digits_run.py", args.toArray(String[]::new));
  }

  /** What the script read of the server's diagnosis as it trained. */
  private static List<Map<String, Object>> seen(Python script) throws Exception {
    return script.events().stream().filter(e -> "seen".equals(e.get("event"))).toList();
  }

  /** The alerts of each kind the server raised (one run per server): losswatch_alerts_total{kind}. */
  private static double alerts(TestServer s, String kind) throws Exception {
    Matcher m = Pattern.compile("losswatch_alerts_total\\{kind=\"" + kind + "\"} (\\S+)").matcher(s.get("/metrics").body());
    assertTrue(m.find(), "no losswatch_alerts_total for " + kind);
    return Double.parseDouble(m.group(1));
  }

  private static double orNaN(Object o) {
    return o == null ? Double.NaN : num(o);
  }

  /** No advice, no lr to retry at, at or above {@code failed}; never healthy once it blew up. */
  private static void neverBackToNorHealthyAfter(List<Map<String, Object>> seen, double failed, String what) {
    boolean blownUp = false;
    for (Map<String, Object> d : seen) {
      String verdict = (String) d.get("verdict");
      blownUp |= List.of("diverging", "dead", "non_finite").contains(verdict);
      if (blownUp) {
        assertFalse(List.of("converging", "converged").contains(verdict), what + ": healthy after its blow-up: " + d);
        assertFalse(String.valueOf(d.get("advice")).contains("keep the lr"), what + ": " + d);
      }
      assertFalse(orNaN(d.get("suggested_lr")) >= failed, what + ": advice back to the lr that failed: " + d);
      assertFalse(orNaN(d.get("retry_lr")) >= failed, what + ": a retry at the lr that failed: " + d);
      String evidence = String.valueOf(d.get("evidence"));
      assertFalse((evidence + d.get("advice")).contains("overflow"), what + ": no overflow estimate for a script: " + d);
      if (evidence.matches("(?s).*\\b(grew|rose|blew up)\\b.*")) {
        assertTrue(evidence.contains("raw"), what + ": evidence of growth quotes the raw loss: " + evidence);
      }
    }
    assertTrue(blownUp, what + ": it blew up: " + seen);
  }

  private static int reversals(List<Double> lrs) {
    int n = 0;
    for (int i = 2; i < lrs.size(); i++) {
      if (Math.signum(lrs.get(i) - lrs.get(i - 1)) != Math.signum(lrs.get(i - 1) - lrs.get(i - 2))) n++;
    }
    return n;
  }

  @SuppressWarnings("unchecked")
  private static List<Double> lrs(Map<String, Object> done) {
    return ((List<Object>) done.get("lrs")).stream().map(TestServer::num).toList();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> diagnosis(Map<String, Object> done) {
    return (Map<String, Object>) ((Map<String, Object>) done.get("summary")).get("diagnosis");
  }

  /**
   * SGD at lr 5 (momentum 0.9): the loss blows up within a few steps, then the network sits at chance (ln 10) with
   * its gradient collapsed. The server called it converging, "keep the lr", to the end; it must call it dead, with
   * an alert, and say which lr to start again at.
   */
  @Test
  void sgdAtLr5IsADeadNetworkWithAnAlertNeverConverging(@TempDir Path dir) throws Exception {
    Python.require(true, "issue 20's dead network on PyTorch");
    try (TestServer s = new TestServer(); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      try (Python script = digits(dir, s, "sgd", "5", 1200, false)) {
        String id = (String) script.await("created", 60).get("id");
        Map<String, Object> alert = c.next(m -> "alert".equals(m.get("type")) && id.equals(m.get("run"))
            && "dead".equals(m.get("kind")), 600);
        Map<String, Object> done = script.await("done", 900);
        script.awaitSuccess(60);
        neverBackToNorHealthyAfter(seen(script), 5, "SGD lr 5");
        Map<String, Object> last = diagnosis(done);
        assertEquals("dead", last.get("verdict"), last.toString());
        assertTrue(num(last.get("retry_lr")) <= 0.5, "start again a decade lower at least: " + last);
        assertTrue(num(done.get("val_acc")) < 0.2, "it is dead: " + done);
        assertEquals(1.0, alerts(s, "dead"), "one alert for the one episode");
        System.out.printf("ScriptAdviceIT: SGD lr 5: dead alert at step %s (%s); final %s; val_acc %.3f%n",
            alert.get("step"), alert.get("message"), last, num(done.get("val_acc")));
      }
    }
  }

  /**
   * Adam at lr 1: blows up at once. Its diverging alert's advice is applied from REST: no second diverging alert,
   * and neither the advice nor the lr to retry at ever goes back to 1 or above (it said "raise ×10 to 1").
   */
  @Test
  void adamAtLr1IsNeverAdvisedBackTo1AndApplyingTheAdviceRaisesNoSecondAlert(@TempDir Path dir) throws Exception {
    Python.require(true, "issue 20's Adam at lr 1 on PyTorch");
    try (TestServer s = new TestServer(); TestServer.Client c = s.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      try (Python script = digits(dir, s, "adam", "1", 1200, false)) {
        String id = (String) script.await("created", 60).get("id");
        Map<String, Object> alert = c.next(m -> "alert".equals(m.get("type")) && id.equals(m.get("run"))
            && "diverging".equals(m.get("kind")), 600);
        assertTrue(num(alert.get("suggested_lr")) <= 0.1, alert.toString());
        TestServer.Response r = s.post("/api/runs/" + id + "/apply-advice", "{}");
        assertEquals(200, r.status(), r.body());
        Map<String, Object> done = script.await("done", 900);
        script.awaitSuccess(60);
        neverBackToNorHealthyAfter(seen(script), 1, "Adam lr 1");
        List<Double> lrs = lrs(done);
        assertEquals(1.0, lrs.get(0));
        assertTrue(lrs.size() >= 2 && lrs.stream().skip(1).allMatch(lr -> lr <= 0.1 + 1e-12), "the advice applied: " + lrs);
        assertEquals(1.0, alerts(s, "diverging"), "one diverging alert: applying its advice raises no second one");
        Map<String, Object> last = diagnosis(done);
        assertFalse(List.of("converging", "converged").contains(last.get("verdict")) && num(done.get("val_acc")) < 0.5,
            "a run that learned nothing is not called healthy: " + last + " val_acc " + done.get("val_acc"));
        System.out.printf("ScriptAdviceIT: Adam lr 1: diverging alert at step %s (%s); applied; lrs %s; dead alerts %.0f;"
            + " final %s; val_acc %.3f%n", alert.get("step"), alert.get("message"), lrs, alerts(s, "dead"), last,
            num(done.get("val_acc")));
      }
    }
  }

  /** auto_lr from SGD at 1e-4: it climbs, at most ×10,000, to a trained model, with at most 3 reversals. */
  @Test
  void autoLrFromSgdAt1e4ClimbsToATrainedModel(@TempDir Path dir) throws Exception {
    Python.require(true, "auto_lr on PyTorch");
    try (TestServer s = new TestServer(); Python script = digits(dir, s, "sgd", "1e-4", 3000, true)) {
      Map<String, Object> done = script.await("done", 1200);
      script.awaitSuccess(60);
      List<Double> lrs = lrs(done);
      assertTrue(num(done.get("val_acc")) >= 0.9, "trained: " + done.get("val_acc") + " lrs " + lrs);
      assertTrue(reversals(lrs) <= 3, "reversals: " + lrs);
      assertTrue(lrs.stream().allMatch(lr -> lr <= 1e-4 * 1e4 * (1 + 1e-9)), "at most ×10,000: " + lrs);
      assertEquals(0.0, alerts(s, "diverging") + alerts(s, "dead") + alerts(s, "non_finite"), "no blow-up: " + lrs);
      assertTrue(seen(script).stream().noneMatch(d -> "oscillating".equals(d.get("verdict"))),
          "a noisy minibatch loss that falls is not oscillating: " + seen(script));
      System.out.printf("ScriptAdviceIT: auto_lr from SGD 1e-4: lrs %s, val_acc %.3f%n", lrs, num(done.get("val_acc")));
    }
  }

  /** auto_lr from Adam at lr 1: it cuts, and never goes back to 1 or above (it went 1 → 0.1 → 1 → 10 → 100 …). */
  @Test
  void autoLrFromAdamAtLr1NeverGoesBackTo1(@TempDir Path dir) throws Exception {
    Python.require(true, "auto_lr on PyTorch");
    try (TestServer s = new TestServer(); Python script = digits(dir, s, "adam", "1", 1200, true)) {
      Map<String, Object> done = script.await("done", 900);
      script.awaitSuccess(60);
      List<Double> lrs = lrs(done);
      assertEquals(1.0, lrs.get(0));
      assertTrue(lrs.size() >= 2, "auto_lr cut the lr: " + lrs);
      assertTrue(lrs.stream().skip(1).allMatch(lr -> lr < 1), "never back to the lr that blew up: " + lrs);
      assertTrue(reversals(lrs) <= 3, "reversals: " + lrs);
      neverBackToNorHealthyAfter(seen(script), 1, "Adam lr 1 with auto_lr");
      System.out.printf("ScriptAdviceIT: auto_lr from Adam 1: lrs %s, alerts diverging %.0f dead %.0f, final %s, val_acc"
          + " %.3f%n", lrs, alerts(s, "diverging"), alerts(s, "dead"), diagnosis(done), num(done.get("val_acc")));
    }
  }

  /**
   * Look-ahead on the script's own model: auto_lr from SGD at 1e-4 with probes of 20 steps. The server asks, the client
   * forks its model into the branches on the same batches and puts it back, auto_lr follows the advice (proven where
   * a probe could tell the lrs apart), the probes stay within their budget (10% of the run's 3,000 steps) and the
   * model trains.
   */
  @Test
  @SuppressWarnings("unchecked")
  void lookaheadProbesTheScriptsModelWithinItsBudgetAndAutoLrTrainsIt(@TempDir Path dir) throws Exception {
    Python.require(true, "look-ahead on PyTorch");
    try (TestServer s = new TestServer();
         Python script = digits(dir, s, "sgd", "1e-4", 3000, true, "--lookahead", "20", "--look-every", "5")) {
      Map<String, Object> done = script.await("done", 1200);
      script.awaitSuccess(60);
      List<Double> lrs = lrs(done);
      Map<String, Object> probes = (Map<String, Object>) ((Map<String, Object>) done.get("summary")).get("lookahead");
      assertTrue(num(probes.get("probes")) >= 1, "it probed: " + probes);
      assertTrue(num(probes.get("steps")) <= 0.1 * 3000, "within its budget: " + probes);
      assertTrue(num(done.get("val_acc")) >= 0.9, "trained: " + done.get("val_acc") + " lrs " + lrs);
      assertTrue(reversals(lrs) <= 3, "reversals: " + lrs);
      List<Object> proven = seen(script).stream().map(d -> d.get("advice"))
          .filter(a -> String.valueOf(a).contains("(proven by look-ahead)")).distinct().toList();
      System.out.printf("ScriptAdviceIT: auto_lr + look-ahead from SGD 1e-4: lrs %s, probes %s, proven advice seen %s,"
          + " val_acc %.3f%n", lrs, probes, proven, num(done.get("val_acc")));
    }
  }
}
