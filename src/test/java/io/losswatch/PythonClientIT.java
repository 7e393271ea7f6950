package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Python training script keeps logging while its server is killed with SIGKILL and started again on the same
 * port and data folder: every step it logged ends up in the history exactly once, with its values. The server
 * answers an append before the steps are written, so a kill loses some that it had accepted; the client finds
 * that out when it is back (the run's last stored step) and sends them again. While the server is down the
 * client keeps the steps, spilling past its memory bound to a spool file.
 */
class PythonClientIT {
  private final HttpClient http = HttpClient.newHttpClient();

  /** The packaged server on a fixed port (the script must find it again after the restart). */
  private static Process server(Path data, int port, Path log) throws Exception {
    Path jar = Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar"));
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-jar", jar.toString(), "--port", Integer.toString(port), "--demo", "none", "--data-dir", data.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (Files.readAllLines(log).stream().noneMatch(l -> l.trim().startsWith("page"))) {
      assertTrue(p.isAlive() && System.nanoTime() < end, "the server starts: " + Files.readString(log));
      Thread.sleep(20);
    }
    return p;
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> get(int port, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return (Map<String, Object>) Json.parse(r.body());
  }

  private static double num(Object o) {
    return o instanceof String s ? Double.parseDouble(s) : ((Number) o).doubleValue();
  }

  @Test
  void theScriptKeepsTrainingThroughAKillAndEveryStepArrivesOnce(@TempDir Path dir) throws Exception {
    Python.require(false, "the Python client through a server kill");
    Path data = dir.resolve("data");
    int port = freePort();
    int steps = 8000;
    Process first = server(data, port, dir.resolve("first.log"));
    Process second = null;
    // 1,000 steps a second, at most 1,000 in memory: the 3 s without a server go partly to the spool file
    try (Python script = Python.start(dir, "clients/python/tests/scripts/steady.py", "http://127.0.0.1:" + port, "--steps",
        Integer.toString(steps), "--pace", "1000", "--memory-steps", "1000")) {
      String id = (String) script.await("created", 60).get("id");
      script.await("progress", e -> ((Number) e.get("step")).intValue() >= 2500, 60);
      long shown = ((Number) get(port, "/api/runs/" + id).get("step")).longValue();
      first.destroyForcibly();   // SIGKILL
      assertTrue(first.waitFor(20, TimeUnit.SECONDS));
      long killedAt = script.events().stream().filter(e -> "progress".equals(e.get("event")))
          .mapToLong(e -> ((Number) e.get("step")).longValue()).max().orElse(0);
      // the script trains on without its server: 2,000 steps, twice what it keeps in memory (the rest is spooled)
      script.await("progress", e -> ((Number) e.get("step")).longValue() >= killedAt + 2000, 60);
      assertTrue(script.process.isAlive(), "the script trains on without its server:\n" + script.output());
      second = server(data, port, dir.resolve("second.log"));
      Map<String, Object> back = get(port, "/api/runs/" + id);
      System.out.printf("PythonClientIT: killed at about step %d (the API showed %d), restarted with %s steps on disk%n",
          killedAt, shown, back.get("step"));

      script.awaitSuccess(120);
      Map<String, Object> done = script.await("done", 1);
      assertEquals(0, ((Number) done.get("dropped")).intValue(), script.output());
      assertEquals(0, ((Number) done.get("unsent")).intValue(), script.output());
      assertTrue(((Number) done.get("spilled")).intValue() > 0, "steps went to the spool file:\n" + script.output());

      Map<String, Object> run = get(port, "/api/runs/" + id);
      assertEquals("finished", run.get("state"), run.toString());
      Map<String, Object> h = get(port, "/api/runs/" + id + "/steps");
      List<?> got = (List<?>) h.get("step");
      List<?> loss = (List<?>) h.get("loss");
      assertEquals(steps, got.size(), "every step once:\n" + script.output());
      for (int i = 0; i < steps; i++) {
        long step = i + 1;
        assertEquals(step, ((Number) got.get(i)).longValue(), "in order, none missing, none twice");
        double want = 1.0 / step + (step % 7) / 1000.0;   // what the script logged, computed the same way
        assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(num(loss.get(i))), "loss at step " + step);
      }
      String err = script.stderr();
      System.out.println("PythonClientIT: the client said:\n" + err.strip());
    } finally {
      first.destroyForcibly();
      if (second != null) {
        second.destroyForcibly();
        second.waitFor(20, TimeUnit.SECONDS);
      }
    }
  }
  /** Each of steps 1..steps once, in order, with the loss steady.py logs at it (from {@code from} on, if given). */
  private void assertEveryStepOnce(int port, String id, int steps, Python script) throws Exception {
    Map<String, Object> h = get(port, "/api/runs/" + id + "/steps");
    List<?> got = (List<?>) h.get("step");
    List<?> loss = (List<?>) h.get("loss");
    assertEquals(steps, got.size(), "every step once:\n" + script.output());
    for (int i = 0; i < steps; i++) {
      long step = i + 1;
      assertEquals(step, ((Number) got.get(i)).longValue(), "in order, none missing, none twice");
      double want = 1.0 / step + (step % 7) / 1000.0;
      assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(num(loss.get(i))), "loss at step " + step);
    }
  }

  /**
   * Issue 19.1: the server is stopped with SIGTERM and started again at once, twice, while the script logs. Whatever
   * it answers in the window (503, or a 409 that names no ended state), the client keeps the steps and sends them
   * again: the script never sees run.stopped, trains to its end, and every step arrives once.
   */
  @Test
  void sigtermAndAnImmediateRestartNeverEndTheScriptsRun(@TempDir Path dir) throws Exception {
    Python.require(false, "the Python client through SIGTERM restarts");
    Path data = dir.resolve("data");
    int port = freePort();
    int steps = 6000;
    Process server = server(data, port, dir.resolve("server0.log"));
    try (Python script = Python.start(dir, "clients/python/tests/scripts/steady.py", "http://127.0.0.1:" + port, "--steps",
        Integer.toString(steps), "--pace", "1000")) {
      String id = (String) script.await("created", 60).get("id");
      for (int i = 1; i <= 2; i++) {
        int at = 1500 * i;
        script.await("progress", e -> ((Number) e.get("step")).intValue() >= at, 60);
        server.destroy();   // SIGTERM: the server stops gracefully while the script appends
        assertTrue(server.waitFor(30, TimeUnit.SECONDS), "the server stops on SIGTERM");
        server = server(data, port, dir.resolve("server" + i + ".log"));
      }
      script.awaitSuccess(120);
      Map<String, Object> done = script.await("done", 1);
      assertEquals(null, done.get("stopped"), "the script's run was never ended:\n" + script.output());
      assertEquals(0, ((Number) done.get("dropped")).intValue(), script.output());
      assertEquals(0, ((Number) done.get("unsent")).intValue(), script.output());
      assertEquals("finished", get(port, "/api/runs/" + id).get("state"));
      assertEveryStepOnce(port, id, steps, script);
      System.out.println("PythonClientIT: through two SIGTERM restarts the client said:\n" + script.stderr().strip());
    } finally {
      server.destroyForcibly();
      server.waitFor(20, TimeUnit.SECONDS);
    }
  }

  /**
   * init(resume=id): a script killed mid-run (and its server restarted: the run is interrupted) is started again from
   * its checkpoint (step 801, the run had more) and continues the same run: the steps the run has are skipped, the rest arrive once; a spool left by a script whose
   * server was never reachable is sent by {@code python3 -m losswatch sync}, which creates the run.
   */
  @Test
  void aKilledScriptResumesItsRunAndSyncSendsASpool(@TempDir Path dir) throws Exception {
    Python.require(false, "the Python client's resume and sync");
    Path data = dir.resolve("data");
    int port = freePort();
    String url = "http://127.0.0.1:" + port;
    Process server = server(data, port, dir.resolve("server.log"));
    try {
      String id;
      try (Python first = Python.start(dir, "clients/python/tests/scripts/steady.py", url, "--steps", "3000", "--pace",
          "1000")) {
        id = (String) first.await("created", 60).get("id");
        first.await("progress", e -> ((Number) e.get("step")).intValue() >= 1000, 60);
        first.process.destroyForcibly();   // SIGKILL: no finish
        first.process.waitFor(20, TimeUnit.SECONDS);
      }
      // and the server restarted meanwhile: the run is interrupted
      server.destroy();
      assertTrue(server.waitFor(30, TimeUnit.SECONDS));
      server = server(data, port, dir.resolve("server-again.log"));
      Map<String, Object> before = get(port, "/api/runs/" + id);
      assertEquals("interrupted", before.get("state"), before.toString());
      long had = ((Number) before.get("step")).longValue();
      try (Python again = Python.start(dir, "clients/python/tests/scripts/steady.py", url, "--steps", "2000", "--pace",
          "0", "--resume", id, "--first", "801")) {
        Map<String, Object> created = again.await("created", 60);
        assertEquals(id, created.get("id"));
        long at = ((Number) created.get("step")).longValue();   // run.step: the run's last step
        assertTrue(at >= had && at > 800, "resumed at " + at + ", the run had " + had);
        again.awaitSuccess(120);
        assertEquals(null, again.await("done", 1).get("stopped"));
        assertTrue(again.stderr().contains("has its steps up to " + at + " already"), again.output());
        assertEquals("finished", get(port, "/api/runs/" + id).get("state"));
        assertEveryStepOnce(port, id, 2000, again);
      }

      // a script whose server never answered: its steps stay in a spool file, which sync sends
      int closed = freePort();
      try (Python offline = Python.start(dir, "clients/python/tests/scripts/steady.py", "http://127.0.0.1:" + closed,
          "--steps", "1500", "--pace", "0", "--memory-steps", "600", "--finish-timeout", "0.5")) {
        offline.awaitSuccess(120);
        Map<String, Object> done = offline.await("done", 1);
        assertEquals(1500, ((Number) done.get("unsent")).intValue(), offline.output());
        String spool = (String) done.get("spool");
        assertTrue(Files.exists(Path.of(spool)), offline.output());
        Map.Entry<Integer, String> sync = Python.run(dir, 120, "env", "PYTHONPATH=" + Python.repo().resolve("clients/python"),
            Python.PYTHON.toString(), "-B", "-m", "losswatch", "sync", spool, "--url", url);
        assertEquals(0, sync.getKey(), sync.getValue());
        assertTrue(sync.getValue().contains("sent 1500 steps (1 to 1500)"), sync.getValue());
        String synced = sync.getValue().split("run ")[1].split(" ")[0];
        assertEquals("finished", get(port, "/api/runs/" + synced).get("state"));
        assertEquals("steady", get(port, "/api/runs/" + synced).get("name"));
        assertEveryStepOnce(port, synced, 1500, offline);
        assertTrue(Files.notExists(Path.of(spool)), "sent, the file is removed");
        System.out.println("PythonClientIT: " + sync.getValue().strip());
      }
    } finally {
      server.destroyForcibly();
      server.waitFor(20, TimeUnit.SECONDS);
    }
  }
}
