package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.TraceCommand;
import io.losswatch.core.RunSpec;
import io.losswatch.server.ServerConfig;
import java.io.StringWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a server finds in its data folder after a restart. */
class RestartIT {
  private static final String FINISHING = "{\"name\":\"done\",\"problem\":\"rosenbrock\",\"optimizer\":{\"type\":"
      + "\"adam\",\"lr\":0.01},\"steps\":150000}";
  private static final String GOING = "{\"name\":\"going\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\","
      + "\"lr\":0.001},\"steps\":1000000,\"steps_per_second\":200}";

  @Test
  void runsComeBackWithTheirWholeHistory(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String done;
    String going;
    try (TestServer server = new TestServer(config); TestServer.Client c = server.client()) {
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"]}");
      done = server.create(FINISHING);
      going = server.create(GOING);
      c.next(runState(done, "finished"), 60);
      c.next(m -> "steps".equals(m.get("type")) && going.equals(m.get("run")), 10);
      // the store writes behind the run: wait until the finished run's last step is on disk
      Path loss = data.resolve("runs").resolve(done).resolve("loss.f64");
      MetricsIT.waitUntil(() -> Files.size(loss) == 150000L * 8);
    }
    // a kill tore the going run's log mid-record
    try (FileChannel ch = FileChannel.open(data.resolve("runs").resolve(going).resolve("lr.f64"),
        StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {9, 9, 9}), ch.size());
    }
    try (TestServer server = new TestServer(config)) {
      List<Object> runs = server.get("/api/runs").list();
      assertEquals(2, runs.size(), "both runs are listed");
      Map<String, Object> d = server.get("/api/runs/" + done).json();
      assertEquals("finished", d.get("state"));
      assertEquals(150000.0, TestServer.num(d.get("step")));
      Map<String, Object> g = server.get("/api/runs/" + going).json();
      assertEquals("interrupted", g.get("state"), "cut off by the stop");
      assertTrue(TestServer.num(g.get("step")) >= 1);

      // the complete history, exactly: the CSV export equals what trace prints for the same spec
      StringWriter trace = new StringWriter();
      trace.write(TraceCommand.export(RunSpec.parse(FINISHING)));
      TestServer.Response csv = server.get("/api/runs/" + done + "/steps.csv");
      assertEquals(200, csv.status());
      assertTrue(csv.contentType().startsWith("text/csv"));
      assertEquals(trace.toString(), csv.body());

      Map<String, Object> range = server.get("/api/runs/" + done + "/steps?from=149990&to=150000").json();
      assertEquals(11, nums(range.get("step")).size());
      Map<String, Object> overview = server.get("/api/runs/" + done + "/steps?max_points=1000").json();
      assertTrue(nums(overview.get("step")).size() <= 1000);
      assertEquals(150000.0, nums(overview.get("step")).get(nums(overview.get("step")).size() - 1));

      // a subscriber to a restored run gets its summary and its (downsampled) history
      try (TestServer.Client c = server.client()) {
        c.send("{\"op\":\"subscribe\",\"runs\":[\"" + done + "\"]}");
        c.next(runState(done, "finished"), 10);
        List<Double> steps = nums(c.next(m -> "steps".equals(m.get("type")), 10).get("step"));
        assertTrue(steps.size() <= 2000 && steps.get(0) == 1.0 && steps.get(steps.size() - 1) == 150000.0,
            "one history message of at most 2,000 points, first to last: " + steps.size() + " points");
      }
      assertEquals(409, server.post("/api/runs/" + going + "/pause", "").status(), "an interrupted run can't be paused");
      TestServer.Response resumed = server.post("/api/runs/" + going + "/resume", "");
      assertEquals(200, resumed.status(), "it resumes from its checkpoint: " + resumed.body());
      assertEquals("running", resumed.json().get("state"));
      assertEquals(204, server.request("DELETE", "/api/runs/" + going, null).status());
      MetricsIT.waitUntil(() -> !Files.exists(data.resolve("runs").resolve(going)));
    }
  }
}
