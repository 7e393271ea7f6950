package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An external run's extra scalars on disk: their columns keep the order they first came in across restarts, and a
 * new one reads NaN for every step before it, whatever the disk did while it was made. The full disk is a small
 * tmpfs (mounting needs root: without it that test is skipped with a notice).
 */
class MetricColumnsIT {
  private static final String EXTERNAL = "{\"source\":\"external\",\"name\":\"metrics\"}";

  private static void append(TestServer s, String id, String body) throws Exception {
    TestServer.Response r = s.post("/api/runs/" + id + "/steps", body);
    assertEquals(200, r.status(), r.body());
  }

  private static String header(TestServer s, String id) throws Exception {
    String csv = s.get("/api/runs/" + id + "/steps.csv").body();
    return csv.substring(0, csv.indexOf('\n'));
  }

  @Test
  void theCsvKeepsItsMetricColumnsInTheOrderTheyCameAcrossARestart(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String id;
    try (TestServer s = new TestServer(config)) {
      id = s.create(EXTERNAL);
      append(s, id, "{\"step\":[1,2],\"loss\":[2,1],\"metrics\":{\"zeta\":[1,2],\"alpha\":[3,4]}}");
      append(s, id, "{\"step\":[3],\"loss\":[1],\"metrics\":{\"mid\":[5]}}");
      assertEquals("step,loss,lr,grad_norm,zeta,alpha,mid", header(s, id));
    }
    for (int restart = 0; restart < 2; restart++) {
      try (TestServer s = new TestServer(config)) {
        assertEquals("step,loss,lr,grad_norm,zeta,alpha,mid" + (restart == 0 ? "" : ",beta"), header(s, id),
            "after restart " + (restart + 1));
        // the script comes back and sends them in another order, with one more
        append(s, id, "{\"step\":[" + (4 + restart) + "],\"loss\":[1],\"metrics\":{\"alpha\":[1],\"beta\":[2],\"zeta\":[3]}}");
        assertEquals("step,loss,lr,grad_norm,zeta,alpha,mid,beta", header(s, id));
      }
    }
  }

  /** The next free steps of {@code n} steps as an append's body, optionally with one metric. */
  private static String steps(long from, int n, String metric) {
    StringBuilder step = new StringBuilder();
    StringBuilder loss = new StringBuilder();
    for (long s = from; s < from + n; s++) {
      step.append(s > from ? "," : "").append(s);
      loss.append(s > from ? ",1" : "1");
    }
    return "{\"step\":[" + step + "],\"loss\":[" + loss + "]" + (metric == null ? "" : ",\"metrics\":{\"" + metric
        + "\":[" + "0.5,".repeat(n - 1) + "0.5]}") + "}";
  }

  private static void waitFor(BooleanSupplier ok, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!ok.getAsBoolean()) {
      assertTrue(System.nanoTime() < end, what);
      Thread.sleep(20);
    }
  }

  private static long records(Path run) {
    try {
      return Files.size(run.resolve("t.i64")) / 8;
    } catch (IOException e) {
      return -1;
    }
  }

  @Test
  void aNewColumnReadsNaNBeforeItsFirstStepEvenWhenTheDiskFilledWhileItWasMade(@TempDir Path dir) throws Exception {
    Path mount = dir.resolve("small");
    Files.createDirectories(mount);
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      System.out.println("NOTICE: MetricColumnsIT skipped a test: cannot mount a tmpfs here (needs root): " + out.trim());
      Assumptions.abort("cannot mount a tmpfs: " + out.trim());
    }
    try {
      ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(mount.resolve("data"));
      Path filler = mount.resolve("filler");
      String id;
      try (TestServer s = new TestServer(config)) {
        id = s.create(EXTERNAL);
        Path run = mount.resolve("data").resolve("runs").resolve(id);
        for (int k = 0; k < 10; k++) append(s, id, steps(1 + k * 10_000L, 10_000, null));
        waitFor(() -> records(run) == 100_000, "the first 100,000 steps on disk");

        // the disk fills up, but for 256 KiB: a new column needs 800 KB of NaN for the steps before it
        try (OutputStream o = Files.newOutputStream(filler)) {
          byte[] chunk = new byte[64 * 1024];
          while (true) o.write(chunk);
        } catch (IOException full) {
          // as full as it gets
        }
        try (RandomAccessFile f = new RandomAccessFile(filler.toFile(), "rw")) {
          f.setLength(f.length() - 256 * 1024);
        }
        s.post("/api/runs/" + id + "/steps", steps(100_001, 1, "acc"));   // taken, or 503 (storage): either way kept or resent
        waitFor(() -> {
          try {
            return "storage".equals(s.get("/api/runs/" + id).json().get("reason"));
          } catch (Exception e) {
            return false;
          }
        }, "the run waits for storage");
        Files.delete(filler);   // space comes back: the store's retry writes the step, and the column
        waitFor(() -> records(run) == 100_001, "the new step on disk");
        if (!"running".equals(s.get("/api/runs/" + id).json().get("state"))) {
          waitFor(() -> {
            try {
              return s.post("/api/runs/" + id + "/steps", steps(100_001, 1, "acc")).status() == 200;
            } catch (Exception e) {
              return false;
            }
          }, "appends are taken again");
        }
        assertNaNBefore(s, id);
      }
      try (TestServer s = new TestServer(config)) {
        assertNaNBefore(s, id);
      }
    } finally {
      new ProcessBuilder("umount", "-l", mount.toString()).start().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @SuppressWarnings("unchecked")
  private static void assertNaNBefore(TestServer s, String id) throws Exception {
    for (String range : List.of("from=1&to=3", "from=50000&to=50002", "from=99999&to=100001")) {
      Map<String, Object> r = s.get("/api/runs/" + id + "/steps?" + range).json();
      List<Double> acc = nums(((Map<String, Object>) r.get("metrics")).get("acc"));
      List<Double> steps = nums(r.get("step"));
      for (int i = 0; i < steps.size(); i++) {
        if (steps.get(i) < 100_001) assertTrue(acc.get(i).isNaN(), "acc at step " + steps.get(i) + ": " + acc.get(i));
        else assertEquals(0.5, acc.get(i));
      }
    }
    String csv = s.get("/api/runs/" + id + "/steps.csv").body();
    assertTrue(csv.lines().skip(1).limit(100_000).allMatch(l -> l.endsWith(",NaN")), "the CSV's acc before its first step");
  }
}
