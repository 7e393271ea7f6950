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
}
