package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A script appending in a tight loop to the packaged server while it is stopped and started again, as a user's
 * training loop meets a deploy or a crash: every append is answered 2xx or 503 (send it again) — never 409, which
 * means the run ended — and after the restart the run goes on with every acknowledged step stored, once. With a
 * full disk too: a step whose append was answered 2xx survives SIGTERM whatever the disk does.
 */
class ScriptRestartIT {
  /** Steps per append, as the probes sent them. */
  private static final int BATCH = 2000;
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void sigtermWhileAScriptAppendsAnswers503NeverAnEndAndLosesNoAcknowledgedStep(@TempDir Path dir) throws Exception {
    restartWhileAppending(dir, true);
  }

  @Test
  void killMinusNineAndAnImmediateRestartLoseNoAcknowledgedStep(@TempDir Path dir) throws Exception {
    restartWhileAppending(dir, false);
  }

  private void restartWhileAppending(Path dir, boolean sigterm) throws Exception {
    int port = JarServer.freePort();
    Path data = dir.resolve("data");
    ScriptClient script;
    String id;
    try (JarServer first = new JarServer(port, data, dir.resolve("first.log"))) {
      id = ScriptClient.create(first.base(), "through a restart");
      script = new ScriptClient(first.base(), id, BATCH).start();
      waitFor(() -> script.acknowledged() >= 20 * BATCH, "the script is under way", script);
      if (sigterm) first.terminate();
      else first.kill();
      long before = script.acknowledged();
      try (JarServer again = new JarServer(port, data, dir.resolve("second.log"))) {
        waitFor(() -> script.acknowledged() >= before + 20 * BATCH, "the script goes on after the restart", script);
        long last = script.stop();
        assertNull(script.ended(), "the script's loop never ended: " + script.ended());
        for (ScriptClient.Answer a : script.answers()) {
          assertTrue(a.status() == 200 || a.status() == 503 || a.status() == -1, "an append is answered 2xx or 503 "
              + "(or not at all while the server is down), never " + a.status() + ": " + a.body());
        }
        assertTrue(script.answers().stream().anyMatch(a -> a.status() != 200), "the restart was felt");
        assertStoredOnce(again.base(), id, last);
        assertEquals("finished", finish(again.base(), id));
      }
    }
  }

  /**
   * The data folder on a small tmpfs that fills while the script appends: the appends get 503 storage, the server
   * gets SIGTERM, space comes back, it starts again, and every step an append was answered 2xx for is there.
   */
  @Test
  void aStepAcknowledgedOnAFullDiskSurvivesSigterm(@TempDir Path dir) throws Exception {
    Path mount = dir.resolve("small");
    Files.createDirectories(mount);
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      System.out.println("NOTICE: ScriptRestartIT's full disk skipped: cannot mount a tmpfs here (needs root): " + out.trim());
      Assumptions.abort("cannot mount a tmpfs: " + out.trim());
    }
    try {
      Path data = mount.resolve("data");
      Path filler = mount.resolve("filler");
      fill(filler, 5L << 20);   // about 1 MB left: some 20,000 steps
      int port = JarServer.freePort();
      ScriptClient script;
      String id;
      try (JarServer first = new JarServer(port, data, dir.resolve("first.log"))) {
        id = ScriptClient.create(first.base(), "on a full disk");
        script = new ScriptClient(first.base(), id, BATCH).start();
        waitFor(() -> script.answers().stream().filter(a -> a.status() == 503 && a.body().contains("storage")).count() >= 3,
            "the disk fills: appends are refused as storage", script);
        first.terminate();
      }
      long acknowledged = script.acknowledged();
      assertTrue(acknowledged >= BATCH, "some steps were stored before the disk filled: " + acknowledged);
      Files.delete(filler);
      try (JarServer again = new JarServer(port, data, dir.resolve("second.log"))) {
        waitFor(() -> script.acknowledged() >= acknowledged + 5 * BATCH, "the script goes on once there is room", script);
        long last = script.stop();
        assertNull(script.ended(), "the script's loop never ended: " + script.ended());
        assertStoredOnce(again.base(), id, last);
      }
    } finally {
      new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Steps 1..{@code last}, each once and as the script logged it. */
  @SuppressWarnings("unchecked")
  private void assertStoredOnce(String base, String id, long last) throws Exception {
    Map<String, Object> steps = (Map<String, Object>) Json.parse(get(base + "/api/runs/" + id + "/steps?to=" + last));
    List<Object> step = (List<Object>) steps.get("step");
    List<Object> loss = (List<Object>) steps.get("loss");
    assertEquals(last, step.size(), "every acknowledged step, once");
    for (int i = 0; i < step.size(); i++) {
      assertEquals(i + 1, ((Number) step.get(i)).longValue(), "step " + (i + 1));
      assertEquals(ScriptClient.loss(i + 1), ((Number) loss.get(i)).doubleValue(), "step " + (i + 1) + "'s loss");
    }
  }

  @SuppressWarnings("unchecked")
  private String finish(String base, String id) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/runs/" + id + "/finish"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"state\":\"finished\"}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return (String) ((Map<String, Object>) Json.parse(r.body())).get("state");
  }

  private String get(String url) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  private interface Check {
    boolean ok();
  }

  /** Waits for a condition the script reaches, or for its loop to end (which fails the test at once). */
  private static void waitFor(Check c, String what, ScriptClient script) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!c.ok()) {
      assertNull(script.ended(), what + ", but the script's loop ended: " + script.ended());
      assertTrue(System.nanoTime() < end, () -> {   // one copy of the answers: the script adds to them meanwhile
        List<?> a = script.answers();
        return what + ": not within 120 s; last answers " + a.subList(Math.max(0, a.size() - 3), a.size());
      });
      LockSupport.parkNanos(10_000_000);   // a poll, not a wait for time to pass: the loop ends on the condition
    }
  }

  /** Writes zeros to {@code file} until {@code bytes} are written or the disk is full. */
  private static void fill(Path file, long bytes) {
    byte[] chunk = new byte[64 * 1024];
    try (OutputStream o = Files.newOutputStream(file)) {
      for (long n = 0; n < bytes; n += chunk.length) o.write(chunk);
    } catch (IOException full) {
      // as full as it gets
    }
  }
}
