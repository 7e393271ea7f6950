package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A finished run keeps no file handle and no verticle, however long it ran, and its history is read from disk.
 * (Its heap, a few KB, is measured on the jar by {@code DurabilityIT}: a full GC here would stop the event
 * loops this test server watches.)
 */
class EndedRunsIT {
  private static final String SPEC = "{\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":\"adam\",\"lr\":0.01},"
      + "\"steps\":100000}";
  private static final int RUNS = 20;

  /** This process' open files under {@code dir} (Linux: /proc/self/fd). */
  private static List<Path> openFiles(Path dir) throws Exception {
    List<Path> open = new ArrayList<>();
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          Path target = Files.readSymbolicLink(fd);
          if (target.startsWith(dir.toRealPath())) open.add(target);
        } catch (java.io.IOException closedMeanwhile) {
          // not a file, or gone
        }
      }
    }
    return open;
  }

  private static void finishAll(TestServer server, List<String> ids) throws Exception {
    for (String id : ids) {
      MetricsIT.waitUntil(() -> "finished".equals(server.get("/api/runs/" + id).json().get("state")),
          "run " + id + " finishes");
    }
  }

  @Test
  void endedRunsLetGoOfTheirFilesAndVerticles(@TempDir Path data) throws Exception {
    try (TestServer server = new TestServer(ServerConfig.defaults().forTest(0).withDataDir(data))) {
      finishAll(server, List.of(server.create(SPEC)));   // warms up what every run loads once
      int deployments = server.server.vertx().deploymentIDs().size();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < RUNS; i++) ids.add(server.create(SPEC));
      finishAll(server, ids);
      MetricsIT.waitUntil(() -> server.server.vertx().deploymentIDs().size() <= deployments,
          "an ended run's verticle goes away");
      // the store closes a log once it has written the run's end
      MetricsIT.waitUntil(() -> openFiles(data).isEmpty(), "no file of an ended run stays open");
      // and its history is still all there, read from disk
      assertEquals(100_000, TestServer.nums(server.get("/api/runs/" + ids.get(7) + "/steps?from=99990").json()
          .get("step")).get(10).longValue());
    }
  }
}
