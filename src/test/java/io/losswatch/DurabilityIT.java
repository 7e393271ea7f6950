package io.losswatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.core.config.Json;
import io.losswatch.history.RunHistory;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server as a process with little heap, run hard and stopped the two ways a process stops: kill -9 and
 * SIGTERM. What the API showed is what comes back, within the promised window, and memory stays bounded.
 */
class DurabilityIT {
  /** What a kill may lose of what the API showed: the steps a run may be ahead of its log, plus one slice. */
  private static final long KILL_WINDOW = RunHistory.MAX_UNWRITTEN + 4096;
  private static final String UNTHROTTLED = "{\"name\":\"%s\",\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\","
      + "\"lr\":0.01},\"steps\":%d}";
  private final HttpClient http = HttpClient.newHttpClient();

  /** The jar with 256 MB of heap on a free port; its output goes to a file (a full pipe would stall it). */
  private static final class Server implements AutoCloseable {
    final Process process;
    final Path log;
    final String base;

    Server(Path data, Path log) throws Exception {
      this.log = log;
      Path jar = Path.of(System.getProperty("losswatch.jar", "target/losswatch.jar"));
      process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
          "-jar", jar.toString(), "--port", "0", "--demo", "none", "--data-dir", data.toString())
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      String page = null;
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (page == null) {
        assertTrue(process.isAlive() && System.nanoTime() < end, "the server starts: " + Files.readString(log));
        for (String line : Files.readAllLines(log)) {
          if (line.trim().startsWith("page")) page = line.trim().substring(4).trim();
        }
        if (page == null) Thread.onSpinWait();
      }
      base = page.substring(0, page.length() - 1);
    }

    String output() throws IOException {
      return Files.readString(log, StandardCharsets.UTF_8);
    }

    @Override public void close() throws Exception {
      process.destroyForcibly();
      process.waitFor(20, TimeUnit.SECONDS);
    }
  }

  private String get(Server s, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(s.base + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  @SuppressWarnings("unchecked")
  private String create(Server s, String name, long steps) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(s.base + "/api/runs"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(UNTHROTTLED.formatted(name, steps))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(201, r.statusCode(), r.body());
    return (String) ((Map<String, Object>) Json.parse(r.body())).get("id");
  }

  /** Each run's state and step, as the API shows them now. */
  @SuppressWarnings("unchecked")
  private Map<String, Map<String, Object>> runs(Server s) throws Exception {
    Map<String, Map<String, Object>> out = new HashMap<>();
    for (Object o : (List<Object>) Json.parse(get(s, "/api/runs"))) {
      Map<String, Object> r = (Map<String, Object>) o;
      out.put((String) r.get("id"), r);
    }
    return out;
  }

  private static long step(Map<String, Object> run) {
    return ((Number) run.get("step")).longValue();
  }

  /** Polls the API until every run has taken at least {@code steps} steps; returns what it showed last. */
  private Map<String, Map<String, Object>> until(Server s, List<String> ids, long steps) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      Map<String, Map<String, Object>> shown = runs(s);
      if (ids.stream().allMatch(id -> step(shown.get(id)) >= steps)) return shown;
      assertTrue(System.nanoTime() < end, "the runs reach step " + steps + ": " + shown);
    }
  }

  @Test
  void killMinusNineLosesAtMostTheUnwrittenWindowAndTheLogStaysExact(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    List<String> ids = new ArrayList<>();
    Map<String, Map<String, Object>> shown;
    try (Server s = new Server(data, dir.resolve("first.log"))) {
      for (int i = 0; i < 3; i++) ids.add(create(s, "hard " + i, 3_000_000));
      shown = until(s, ids, 300_000);
      s.process.destroyForcibly();   // SIGKILL: no shutdown hook runs
      assertTrue(s.process.waitFor(20, TimeUnit.SECONDS));
      assertFalse(s.output().contains("OutOfMemoryError"), s.output());
    }
    try (Server s = new Server(data, dir.resolve("second.log"))) {
      Map<String, Map<String, Object>> back = runs(s);
      for (String id : ids) {
        assertEquals("interrupted", back.get(id).get("state"));
        long lost = step(shown.get(id)) - step(back.get(id));
        assertTrue(lost <= KILL_WINDOW, "run " + id + " lost " + lost + " of the steps the API showed");
      }
      // what is on disk is exactly what the run computed: the export equals trace for as many steps
      String id = ids.get(0);
      long kept = step(back.get(id));
      StringWriter trace = new StringWriter();
      trace.write(TraceCommand.export(RunSpec.parse(UNTHROTTLED.formatted("hard 0", kept))));
      assertEquals(trace.toString(), get(s, "/api/runs/" + id + "/steps.csv"));
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void aKilledRunResumesFromItsCheckpointAndItsHistoryEqualsAnUninterruptedRun(@TempDir Path dir) throws Exception {
    // minibatches, momentum and a schedule: every kind of state a resume must bring back
    String spec = "{\"name\":\"resumed\",\"problem\":{\"type\":\"mlp\",\"hidden\":8,\"batch_size\":32,\"seed\":4},"
        + "\"optimizer\":{\"type\":\"sgd\",\"lr\":0.05,\"momentum\":0.9},\"schedule\":{\"type\":\"cosine\",\"T_max\":12000},"
        + "\"steps\":12000,\"steps_per_second\":3000}";
    Path data = dir.resolve("data");
    String id;
    try (Server s = new Server(data, dir.resolve("first.log"))) {
      HttpResponse<String> r = post(s, "/api/runs", spec);
      assertEquals(201, r.statusCode(), r.body());
      id = (String) ((Map<String, Object>) Json.parse(r.body())).get("id");
      until(s, List.of(id), 7000);   // past a few checkpoints, one 2 s apart
      s.process.destroyForcibly();
      assertTrue(s.process.waitFor(20, TimeUnit.SECONDS));
    }
    try (Server s = new Server(data, dir.resolve("second.log"))) {
      assertEquals("interrupted", runs(s).get(id).get("state"));
      HttpResponse<String> r = post(s, "/api/runs/" + id + "/resume", "");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("running", ((Map<String, Object>) Json.parse(r.body())).get("state"));
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!"finished".equals(runs(s).get(id).get("state"))) assertTrue(System.nanoTime() < end, "it finishes");
      StringWriter trace = new StringWriter();
      trace.write(TraceCommand.export(RunSpec.parse(spec)));
      assertEquals(trace.toString(), get(s, "/api/runs/" + id + "/steps.csv"), "bit for bit, every step once");
      assertEquals(409, post(s, "/api/runs/" + id + "/resume", "").statusCode(), "a finished run does not resume");
    }
  }

  private HttpResponse<String> post(Server s, String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(s.base + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void sigtermFlushesEverythingShownInBoundedTimeWithBoundedMemory(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    List<String> ids = new ArrayList<>();
    String done;
    Map<String, Map<String, Object>> shown;
    try (Server s = new Server(data, dir.resolve("first.log"))) {
      done = create(s, "short", 200_000);
      for (int i = 0; i < 3; i++) ids.add(create(s, "long " + i, 20_000_000));
      until(s, List.of(done), 200_000);
      shown = until(s, ids, 1_000_000);
      long start = System.nanoTime();
      s.process.destroy();   // SIGTERM
      assertTrue(s.process.waitFor(15, TimeUnit.SECONDS), "stops within the shutdown hook's 15 s");
      System.out.printf("DurabilityIT: SIGTERM with 3 unthrottled runs took %d ms%n",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      assertFalse(s.output().contains("OutOfMemoryError"), "3 unthrottled runs fit in 256 MB: " + s.output());
    }
    try (Server s = new Server(data, dir.resolve("second.log"))) {
      Map<String, Map<String, Object>> back = runs(s);
      assertEquals("finished", back.get(done).get("state"), "a run that finished stays finished");
      assertEquals(200_000, step(back.get(done)));
      for (String id : ids) {
        assertEquals("interrupted", back.get(id).get("state"));
        assertTrue(step(back.get(id)) >= step(shown.get(id)), "every step shown before SIGTERM was flushed: "
            + step(back.get(id)) + " < " + step(shown.get(id)));
      }
    }
  }

  /** The server process' heap in use after a full GC, as jcmd reports it. */
  private static long heapAfterGc(Server s) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    String pid = Long.toString(s.process.pid());
    for (int i = 0; i < 2; i++) new ProcessBuilder(jcmd, pid, "GC.run").start().waitFor(30, TimeUnit.SECONDS);
    Process info = new ProcessBuilder(jcmd, pid, "GC.heap_info").start();
    String out = new String(info.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(out);
    assertTrue(m.find(), out);
    return Long.parseLong(m.group(1)) * 1024;
  }

  @Test
  void aFinishedRunKeepsAFewKilobytes(@TempDir Path dir) throws Exception {
    try (Server s = new Server(dir.resolve("data"), dir.resolve("server.log"))) {
      String first = create(s, "warm-up", 100_000);
      until(s, List.of(first), 100_000);
      long before = heapAfterGc(s);
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 60; i++) ids.add(create(s, "run " + i, 100_000));
      until(s, ids, 100_000);
      long grown = heapAfterGc(s) - before;
      long perRun = grown / ids.size();
      System.out.printf("DurabilityIT: 60 finished 100k-step runs: heap %+d KB after a full GC%n", grown / 1024);
      if (Soak.ON) assertTrue(perRun < 64 * 1024, "a finished 100k-step run keeps " + perRun + " bytes of heap");
    }
  }
}
