package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.run.Run;
import io.losswatch.server.ServerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A script's run as its script sees it: what the answers count, what the run records, what a cap refuses. */
class ScriptRunIT {
  private static final String EXTERNAL = "{\"source\":\"external\",\"name\":\"%s\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.001}}";

  private static Map<String, Object> append(TestServer s, String id, String body) throws Exception {
    TestServer.Response r = s.post("/api/runs/" + id + "/steps", body);
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  @Test
  void anAnswerCountsResentStepsAsDuplicatesAndStepsItNeverHadAsSkipped() throws Exception {
    try (TestServer s = new TestServer()) {
      String id = s.create(EXTERNAL.formatted("counts"));
      append(s, id, "{\"step\":[1,2,5,10],\"loss\":[4,3,2,1]}");
      Map<String, Object> a = append(s, id, "{\"step\":[1,3,10,20],\"loss\":[4,9,1,0.5]}");
      assertEquals(1.0, a.get("accepted"), "step 20");
      assertEquals(2.0, a.get("duplicates"), "steps 1 and 10, sent again");
      assertEquals(1.0, a.get("skipped"), "step 3, below the last step and never stored");
      assertEquals(20.0, a.get("last_step"));
      assertEquals(List.of(1.0, 2.0, 5.0, 10.0, 20.0), nums(s.get("/api/runs/" + id + "/steps").json().get("step")));
    }
  }

  /** The lr a change is recorded with is the one the script says it used at that step, not the one asked for. */
  @Test
  void anLrChangeIsRecordedWithTheLrTheScriptReports() throws Exception {
    try (TestServer s = new TestServer()) {
      String id = s.create(EXTERNAL.formatted("scheduled"));
      append(s, id, "{\"step\":[1,2,3],\"loss\":[1,0.9,0.8],\"lr\":[0.001,0.001,0.001]}");
      assertEquals(200, s.post("/api/runs/" + id + "/lr", "{\"lr\":0.0005}").status());
      @SuppressWarnings("unchecked")
      Map<String, Object> lr = ((List<Map<String, Object>>) append(s, id, "{\"step\":[],\"loss\":[]}").get("commands")).get(0);
      // its scheduler moved the lr on meanwhile: the script's lr at step 4 is 0.00049835, as it reports
      append(s, id, "{\"step\":[4,5],\"loss\":[0.7,0.6],\"lr\":[0.00049835,0.0004967],\"acks\":[{\"id\":\"" + lr.get("id")
          + "\",\"step\":4}]}");
      Map<?, ?> change = (Map<?, ?>) ((List<?>) s.get("/api/runs/" + id).json().get("lr_changes")).get(0);
      assertEquals(4.0, change.get("step"));
      assertEquals(0.001, change.get("from"));
      assertEquals(0.00049835, change.get("to"), "the lr the script used, not the 0.0005 asked for");
    }
  }

  /** A script goes on a little after a person stops its run, until it hears: the run's text names the step it shows. */
  @Test
  void aStoppedRunsTextNamesTheStepItShows() throws Exception {
    try (TestServer s = new TestServer()) {
      String id = s.create(EXTERNAL.formatted("stopped"));
      append(s, id, steps(1, 40));
      assertEquals("stopped", s.post("/api/runs/" + id + "/stop", "").json().get("state"));
      Map<String, Object> a = append(s, id, steps(41, 50));
      assertEquals(10.0, a.get("accepted"), "the steps it took before it heard are kept");
      Map<String, Object> run = s.get("/api/runs/" + id).json();
      assertEquals(50.0, run.get("step"));
      String advice = (String) ((Map<?, ?>) run.get("diagnosis")).get("advice");
      assertTrue(advice.contains("ended at step 50"), advice);
      @SuppressWarnings("unchecked")
      Map<String, Object> stop = ((List<Map<String, Object>>) a.get("commands")).get(0);
      assertEquals("stop", stop.get("op"));
      assertEquals("stopped", stop.get("reason"), "a stop says why");
    }
  }

  private static String steps(int from, int to) {
    StringBuilder step = new StringBuilder();
    StringBuilder loss = new StringBuilder();
    for (int k = from; k <= to; k++) {
      step.append(k > from ? "," : "").append(k);
      loss.append(k > from ? "," : "").append(10.0 / k);
    }
    return "{\"step\":[" + step + "],\"loss\":[" + loss + "]}";
  }

  /**
   * Metric names like {@code train/loss} and {@code val.acc}, up to the cap of a run, checked as each append is
   * taken: many appends at once, each adding new names, never give a run more columns than the cap; each refused
   * one names a metric. The names come back the same after a restart (a {@code /} is no folder on disk).
   */
  @Test
  void aRunsMetricsAreCappedAsAppendsAreTakenAndTheirNamesSurviveARestart(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String id;
    List<String> names = new ArrayList<>();
    try (TestServer s = new TestServer(config)) {
      id = s.create(EXTERNAL.formatted("metrics"));
      append(s, id, "{\"step\":[1],\"loss\":[1],\"metrics\":{\"train/loss\":[1],\"val.acc\":[0.5],\"lr-find_2\":[3]}}");
      for (int k = 0; k < 5; k++) append(s, id, "{\"step\":[" + (2 + k) + "],\"loss\":[1],\"metrics\":{" + group("early" + k) + "}}");
      // 53 names; now twelve appends at once, each with ten more: the first taken fits (63), every other would not
      ExecutorService pool = Executors.newFixedThreadPool(12);
      try {
        List<Future<TestServer.Response>> answers = new ArrayList<>();
        for (int k = 0; k < 12; k++) {
          String body = "{\"step\":[" + (10 + k) + "],\"loss\":[1],\"metrics\":{" + group("late" + k) + "}}";
          answers.add(pool.submit((Callable<TestServer.Response>) () -> s.post("/api/runs/" + id + "/steps", body)));
        }
        int taken = 0;
        for (Future<TestServer.Response> f : answers) {
          TestServer.Response r = f.get();
          if (r.status() == 200) {
            taken++;
          } else {
            assertEquals(400, r.status(), r.body());
            assertTrue(((String) r.json().get("field")).startsWith("metrics.late"), r.body());
          }
        }
        String header = s.get("/api/runs/" + id + "/steps.csv").body().lines().findFirst().orElseThrow();
        names.addAll(List.of(header.split(",")).subList(4, header.split(",").length));
        assertEquals(1, taken, "one of the twelve fits");
        assertEquals(63, names.size(), header);
        assertTrue(names.size() <= Run.MAX_METRICS);
      } finally {
        pool.shutdownNow();
      }
    }
    try (TestServer again = new TestServer(config)) {
      String header = again.get("/api/runs/" + id + "/steps.csv").body().lines().findFirst().orElseThrow();
      List<String> back = List.of(header.split(",")).subList(4, header.split(",").length);
      assertEquals(names.stream().sorted().toList(), back.stream().sorted().toList());
      assertTrue(back.contains("train/loss") && back.contains("val.acc") && back.contains("lr-find_2"), header);
      Map<?, ?> metrics = (Map<?, ?>) again.get("/api/runs/" + id + "/steps?to=1").json().get("metrics");
      assertEquals(List.of(1.0), nums(metrics.get("train/loss")));
    }
  }

  /** Ten metric names in group {@code g}: {@code "g/m0":[0.5], …}. */
  private static String group(String g) {
    StringBuilder m = new StringBuilder();
    for (int j = 0; j < 10; j++) m.append(j > 0 ? "," : "").append('"').append(g).append("/m").append(j).append("\":[0.5]");
    return m.toString();
  }

  /** Two sweeps at once that do not both fit: one starts whole, the other not at all (429), none of its runs left. */
  @Test
  void aSweepThatDoesNotFitStartsNoRunAtAll() throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withLimits(5, 1_000_000, 100);
    try (TestServer s = new TestServer(config)) {
      String sweep = "{\"base\":{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\"},\"steps\":100000,"
          + "\"steps_per_second\":50},\"lr\":[0.001,0.01,0.1,0.2]}";
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<TestServer.Response> a = pool.submit(() -> s.post("/api/sweeps", sweep));
        Future<TestServer.Response> b = pool.submit(() -> s.post("/api/sweeps", sweep));
        List<TestServer.Response> both = List.of(a.get(), b.get());
        assertEquals(List.of(201, 429), both.stream().map(TestServer.Response::status).sorted().toList(), both.toString());
        TestServer.Response started = both.stream().filter(r -> r.status() == 201).findFirst().orElseThrow();
        Object id = started.json().get("sweep");
        List<Object> runs = s.get("/api/runs").list();
        assertEquals(4, runs.size(), "only the sweep that fit has runs: " + runs);
        for (Object r : runs) assertEquals(id, ((Map<?, ?>) r).get("sweep"));
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
