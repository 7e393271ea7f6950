package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.ScriptClient;
import io.losswatch.server.ServerConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scripts appending to a run whose disk fills: each append is answered at once, 200 or 503 {@code storage} (send it
 * again), also those that waited for the store when its failure came — never left to time out as "busy". Once there
 * is room the run takes steps again. Mounting needs root: without it the test is skipped with a notice.
 */
class ScriptDiskFullIT {
  /** The most steps one append may carry. */
  private static final int BATCH = 10_000;
  private Path mount;

  @BeforeEach
  void mountTmpfs(@TempDir Path dir) throws Exception {
    mount = dir.resolve("small");
    Files.createDirectories(mount);
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      System.out.println("NOTICE: ScriptDiskFullIT skipped: cannot mount a tmpfs here (needs root): " + out.trim());
      mount = null;
      Assumptions.abort("cannot mount a tmpfs: " + out.trim());
    }
  }

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(10, TimeUnit.SECONDS);
  }

  @Test
  void appendsOnAFullDiskAreAnsweredStorageAtOnce() throws Exception {
    Path filler = mount.resolve("filler");
    fill(filler, 4L << 20);   // about 12 MB left: a few seconds of the busy runs' steps
    try (TestServer server = new TestServer(ServerConfig.defaults().forTest(0).withDataDir(mount.resolve("data")))) {
      String base = "http://127.0.0.1:" + server.port();
      String id = ScriptClient.create(base, "a full disk");
      // shorter than the event bus's 30 s: an append left waiting until it times out fails here
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      AtomicLong next = new AtomicLong(1);
      List<String> all = new CopyOnWriteArrayList<>();
      // eight at once, of the most steps an append may carry, each until it was refused as storage three times
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> scripts = new ArrayList<>();
      for (int k = 0; k < 8; k++) {
        scripts.add(pool.submit(() -> {
          int storage = 0;
          while (storage < 3) {
            long from = next.getAndAdd(BATCH);
            ScriptClient.Answer a = append(http, base, id, from, from + BATCH - 1);
            all.add(a.status() + " " + a.body());
            if (a.status() == 503 && a.body().contains("storage")) storage++;
            else if (a.status() != 200) break;
          }
          return null;
        }));
      }
      // once the script is under way, built-in runs going as fast as they can keep the store busy (as on a server with
      // other work) and fill the disk: the script's appends find their run a window ahead of the store and wait for it
      MetricsIT.waitUntil(() -> all.stream().anyMatch(a -> a.startsWith("200 ")), "the script's first steps are taken");
      List<String> busy = new ArrayList<>();
      for (int k = 0; k < 3; k++) {
        busy.add(server.create("{\"name\":\"busy " + k + "\",\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\"},"
            + "\"steps\":100000000}"));
      }
      try {
        for (Future<?> f : scripts) f.get(120, TimeUnit.SECONDS);
      } finally {
        pool.shutdownNow();
      }
      for (String a : all) {
        assertTrue(a.startsWith("200 ") || a.startsWith("503 {\"error\":\"storage: "), "200, or 503 storage at once: " + a);
      }
      assertEquals("paused", server.get("/api/runs/" + id).json().get("state"));

      for (String b : busy) assertEquals(204, server.request("DELETE", "/api/runs/" + b, null).status());
      Files.delete(filler);   // room again (the busy runs gone, which would fill it at once): the run takes steps again
      long from = next.getAndAdd(BATCH);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      ScriptClient.Answer a;
      while ((a = append(http, base, id, from, from + BATCH - 1)).status() != 200) {
        assertTrue(a.status() == 503 && a.body().contains("storage"), a.toString());
        assertTrue(System.nanoTime() < end, "the run takes steps again once there is room");
        java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
      }
      assertEquals("running", server.get("/api/runs/" + id).json().get("state"));
    }
  }

  private static ScriptClient.Answer append(HttpClient http, String base, String id, long from, long to) throws Exception {
    StringBuilder step = new StringBuilder();
    StringBuilder loss = new StringBuilder();
    for (long s = from; s <= to; s++) {
      step.append(s > from ? "," : "").append(s);
      loss.append(s > from ? "," : "").append(ScriptClient.loss(s));
    }
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/runs/" + id + "/steps"))
          .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
          .POST(HttpRequest.BodyPublishers.ofString("{\"step\":[" + step + "],\"loss\":[" + loss + "]}")).build(),
          HttpResponse.BodyHandlers.ofString());
      return new ScriptClient.Answer(r.statusCode(), r.body());
    } catch (IOException e) {
      return new ScriptClient.Answer(-1, String.valueOf(e));
    }
  }

  private static void fill(Path file, long bytes) {
    byte[] chunk = new byte[64 * 1024];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long n = 0; n < bytes; n += chunk.length) out.write(chunk);
    } catch (IOException full) {
      // as full as it gets
    }
  }
}
