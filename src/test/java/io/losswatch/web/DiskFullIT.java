package io.losswatch.web;

import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.server.ServerConfig;
import io.losswatch.history.RunHistory;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data folder on a small tmpfs that fills up: the run pauses with reason storage and one alert, what is
 * on disk stays exact and readable, writing resumes exactly where it stopped when space comes back, and the
 * server starts on a full disk and serves what it has. Mounting needs root: without it the test is skipped
 * with a notice.
 */
class DiskFullIT {
  private static final String SPEC = "{\"name\":\"fills the disk\",\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":"
      + "\"adam\",\"lr\":0.01},\"steps\":200000}";
  private static final Logger STORE = Logger.getLogger("io.losswatch.store.StoreVerticle");
  private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
  private final Handler capture = new Handler() {
    @Override public void publish(LogRecord r) {
      logged.add(r);
    }

    @Override public void flush() {
    }

    @Override public void close() {
    }
  };
  private Path mount;

  @BeforeEach
  void mountTmpfs(@TempDir Path dir) throws Exception {
    mount = dir.resolve("small");
    Files.createDirectories(mount);
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      System.out.println("NOTICE: DiskFullIT skipped: cannot mount a tmpfs here (needs root): " + out.trim());
      mount = null;
      Assumptions.abort("cannot mount a tmpfs: " + out.trim());
    }
    STORE.addHandler(capture);
  }

  @AfterEach
  void unmount() throws Exception {
    STORE.removeHandler(capture);
    if (mount != null) new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(10, TimeUnit.SECONDS);
  }

  /** Writes zeros to {@code file} until {@code bytes} are written or the disk is full. */
  private static void fill(Path file, long bytes) {
    byte[] chunk = new byte[64 * 1024];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long n = 0; n < bytes; n += chunk.length) out.write(chunk);
    } catch (IOException full) {
      // as full as it gets
    }
  }

  private static long onDisk(Path data, String id) throws IOException {
    return Files.size(data.resolve("runs").resolve(id).resolve("t.i64")) / 8;
  }

  @Test
  void aFullDiskPausesTheRunLosesNothingAndWritingResumesExactly() throws Exception {
    Path data = mount.resolve("data");
    Path filler = mount.resolve("filler");
    fill(filler, 12L << 20);   // about 4 MB left: some 130k of the run's 200k steps
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String id;
    StringWriter trace = new StringWriter();
    trace.write(TraceCommand.export(RunSpec.parse(SPEC)));
    try (TestServer server = new TestServer(config); TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"]}");
      id = server.create(SPEC);
      c.next(m -> runState(id, "paused").test(m) && "storage".equals(((Map<?, ?>) m.get("run")).get("reason")), 30);
      Map<String, Object> alert = c.next(m -> "alert".equals(m.get("type")) && "storage".equals(m.get("kind")), 10);
      assertEquals(id, alert.get("run"));
      assertTrue(((String) alert.get("message")).contains("cannot be written"), alert.toString());

      // paused, with bounded memory: at most the unwritten window ahead of the disk
      Map<String, Object> run = server.get("/api/runs/" + id).json();
      assertEquals("storage", run.get("reason"));
      String paused = "losswatch_run_state{name=\"fills the disk\",optimizer=\"adam\",problem=\"rosenbrock\",run=\""
          + id + "\",schedule=\"constant\",state=\"paused\",reason=\"storage\"} 1.0";
      MetricsIT.waitUntil(() -> server.get("/metrics").body().contains(paused), "/metrics: " + paused);
      long shown = (long) TestServer.num(run.get("step"));
      long kept = onDisk(data, id);
      assertTrue(kept > 1000 && kept < 200_000, "part of the run is on disk: " + kept);
      assertTrue(shown - kept <= RunHistory.MAX_UNWRITTEN + 4096, "ahead of the disk by " + (shown - kept));
      // what is on disk is served, exactly
      assertEquals(200, server.get("/api/runs/" + id + "/steps?max_points=1000").status());
      TestServer.Response csv = server.get("/api/runs/" + id + "/steps.csv");
      assertEquals(200, csv.status());
      assertTrue(trace.toString().startsWith(csv.body()), "the export is the trace's first rows");
      TestServer.Response resume = server.post("/api/runs/" + id + "/resume", "");
      assertEquals(409, resume.status());
      assertTrue(resume.body().contains("storage"), resume.body());

      // space comes back: writing resumes where it stopped, the run goes on and ends
      Files.delete(filler);
      c.next(m -> runState(id, "running").test(m), 10);
      c.next(m -> runState(id, "finished").test(m), 60);
      assertEquals(trace.toString(), server.get("/api/runs/" + id + "/steps.csv").body());
      assertTrue(server.get("/metrics").body().contains("losswatch_alerts_total{kind=\"storage\"} 1.0"),
          "one storage alert in all");
    }
    assertTrue(logged.stream().noneMatch(r -> r.getThrown() != null), "no stack trace in the log");
    assertEquals(1, logged.stream().filter(r -> r.getMessage().contains("cannot write its steps")).count(),
        "one line when writing stopped: " + logged.stream().map(LogRecord::getMessage).toList());

    // a full disk at start: the server starts and serves what it has, and refuses new runs clearly
    fill(filler, Long.MAX_VALUE);
    try (TestServer server = new TestServer(config)) {
      Map<String, Object> run = server.get("/api/runs/" + id).json();
      assertEquals("finished", run.get("state"));
      assertEquals(200_000.0, TestServer.num(run.get("step")));
      assertEquals(trace.toString(), server.get("/api/runs/" + id + "/steps.csv").body());
      TestServer.Response refused = server.post("/api/runs", SPEC);
      assertEquals(507, refused.status(), refused.body());
      assertTrue(((String) refused.json().get("error")).startsWith("storage: "), refused.body());
      assertEquals(200, server.get("/health").status());
    }
  }
}
