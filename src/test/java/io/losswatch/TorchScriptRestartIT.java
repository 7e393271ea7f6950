package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20's user script (the digits MLP in PyTorch, {@code clients/python/tests/scripts/digits_run.py}) against the
 * packaged server while things go wrong: the server is killed -9 and started again at once, twice, mid-run — the
 * script trains to its end and every step it logged is stored once, exactly; and the script itself is killed -9
 * mid-run and started again from its own checkpoint with {@code init(resume=id)} — the run goes on from its last step
 * and the model trains.
 */
class TorchScriptRestartIT {
  private final HttpClient http = HttpClient.newHttpClient();

  @SuppressWarnings("unchecked")
  private Map<String, Object> get(String base, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return (Map<String, Object>) Json.parse(r.body());
  }

  private static double num(Object o) {
    return o instanceof String s ? Double.parseDouble(s) : ((Number) o).doubleValue();
  }

  private static boolean past(Map<String, Object> e, long step) {
    return num(e.get("step")) >= step;
  }

  @Test
  void killMinusNineAndImmediateRestartsMidRunLoseNoStepAndTheScriptTrainsToItsEnd(@TempDir Path dir) throws Exception {
    Python.require(true, "a PyTorch script through server kills");
    int port = JarServer.freePort();
    Path data = dir.resolve("data");
    int steps = 1500;
    JarServer server = new JarServer(port, data, dir.resolve("server-0.log"));
    try (Python script = Python.start(dir, "clients/python/tests/scripts/digits_run.py", server.base(), "--optimizer",
        "sgd", "--lr", "0.1", "--steps", "" + steps, "--look-every", "0", "--pace", "100", "--losses")) {
      String id = (String) script.await("created", 60).get("id");
      for (int k = 1; k <= 2; k++) {
        long at = 400L * k;
        script.await("progress", e -> past(e, at), 120);
        server.kill();
        server = new JarServer(port, data, dir.resolve("server-" + k + ".log"));   // at once, on the same port
      }
      Map<String, Object> done = script.await("done", 300);
      script.awaitSuccess(60);
      assertTrue(num(done.get("val_acc")) >= 0.9, "it trained: " + done.get("val_acc"));
      assertTrue(!script.stderr().contains("stopped"), script.output());
      Map<String, Object> run = get(server.base(), "/api/runs/" + id);
      assertEquals("finished", run.get("state"), run.toString());
      Map<String, Object> h = get(server.base(), "/api/runs/" + id + "/steps");
      List<?> stored = (List<?>) h.get("step");
      List<?> loss = (List<?>) h.get("loss");
      List<?> logged = (List<?>) done.get("losses");
      assertEquals(steps, stored.size(), "every step once:\n" + script.output());
      for (int i = 0; i < steps; i++) {
        assertEquals(i + 1, (long) num(stored.get(i)), "in order, none missing, none twice");
        assertEquals(num(logged.get(i)), num(loss.get(i)), 0.0, "the loss at step " + (i + 1) + ", exactly");
      }
      System.out.printf("TorchScriptRestartIT: two kill -9s of the server at steps >= 400 and 800: %d steps stored"
          + " once, val_acc %.3f%n", steps, num(done.get("val_acc")));
    } finally {
      server.close();
    }
  }

  @Test
  void aKilledScriptResumesItsRunFromItsCheckpointAndTrainsToItsEnd(@TempDir Path dir) throws Exception {
    Python.require(true, "a PyTorch script resumed");
    int port = JarServer.freePort();
    String checkpoint = dir.resolve("checkpoint.pt").toString();
    int steps = 1500;
    try (JarServer server = new JarServer(port, dir.resolve("data"), dir.resolve("server.log"))) {
      String id;
      try (Python first = Python.start(dir, "clients/python/tests/scripts/digits_run.py", server.base(), "--optimizer",
          "sgd", "--lr", "0.1", "--steps", "" + steps, "--look-every", "0", "--pace", "200", "--checkpoint", checkpoint)) {
        id = (String) first.await("created", 60).get("id");
        first.await("progress", e -> past(e, 700), 120);
        first.process.destroyForcibly();   // kill -9: no finish()
        assertTrue(first.process.waitFor(30, TimeUnit.SECONDS));
      }
      long had = (long) num(get(server.base(), "/api/runs/" + id).get("step"));
      try (Python again = Python.start(dir, "clients/python/tests/scripts/digits_run.py", server.base(), "--optimizer",
          "sgd", "--lr", "0.1", "--steps", "" + steps, "--look-every", "0", "--checkpoint", checkpoint, "--resume", id)) {
        Map<String, Object> created = again.await("created", 60);
        assertEquals(id, created.get("id"), "the same run");
        assertTrue(num(created.get("step")) >= had, "run.step is the run's last step: " + created + ", it had " + had);
        Map<String, Object> done = again.await("done", 300);
        again.awaitSuccess(60);
        long from = (long) num(done.get("first"));
        assertTrue(from >= 701, "from the step after its checkpoint: " + from);
        assertTrue(num(done.get("val_acc")) >= 0.9, "it trained: " + done.get("val_acc"));
        Map<String, Object> run = get(server.base(), "/api/runs/" + id);
        assertEquals("finished", run.get("state"), run.toString());
        // the run holds its steps up to the kill and the resumed script's after them, each once, in order; the steps
        // the killed script had not sent yet (after the server's last, up to its checkpoint) died with it
        List<?> stored = (List<?>) get(server.base(), "/api/runs/" + id + "/steps").get("step");
        long kept = 0;   // the run's steps up to the kill: 1..kept
        while (kept < stored.size() && (long) num(stored.get((int) kept)) == kept + 1) kept++;
        assertTrue(kept >= had, "the steps it had at the kill: " + kept + " < " + had);
        for (int i = (int) kept; i < stored.size(); i++) {
          assertEquals(from + i - kept, (long) num(stored.get(i)), "the resumed script's steps, in order, once");
        }
        assertEquals(steps, (long) num(stored.get(stored.size() - 1)), "to its end");
        if (from <= had) assertTrue(again.stderr().contains("already"), "the steps it had are skipped, said once");
        System.out.printf("TorchScriptRestartIT: the server had step %d at the kill, the checkpoint step %d; resumed,"
            + " val_acc %.3f%n", had, from - 1, num(done.get("val_acc")));
      }
    }
  }
}
