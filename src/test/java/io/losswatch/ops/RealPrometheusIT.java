package io.losswatch.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.losswatch.core.config.Json;
import io.losswatch.server.Server;
import io.losswatch.server.ServerConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The real thing: the server in this JVM, Debian's Prometheus scraping it every second with alerts.yml, the textbook
 * runs at lr 1.1 (diverges) and 0.1 (converges). The divergence alert must fire for the first and nothing for the
 * second; a short too_slow run's alert is pending while it runs and gone once it has finished, though its last
 * verdict stays in /metrics; then every query of every dashboard panel, variables filled in, must return data.
 * Panels on series the server does not export (yet) are reported as skipped on stdout instead of failing. And the
 * "Your own Prometheus" snippet of docs/operations.md, run as written (addresses filled in) with Debian's
 * Alertmanager, fires a diverging run's alerts within {@link #SNIPPET_DEADLINE} and delivers them.
 */
class RealPrometheusIT {
  private static final String PROMETHEUS = "/usr/bin/prometheus";
  private static final String ALERTMANAGER = "/usr/bin/prometheus-alertmanager";
  private static final Duration SNIPPET_DEADLINE = Duration.ofSeconds(30);
  private static final Duration ALERT_DEADLINE = Duration.ofSeconds(90);
  private static final Duration QUERY_DEADLINE = Duration.ofSeconds(45);
  private static final Pattern METRIC = Pattern.compile("\\b((?:losswatch|vertx|jvm|process|system)_[a-zA-Z0-9_]+)");
  private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.*),\\s*(\\w+)\\)");

  /** The server runs with --token, so /metrics needs it: Prometheus reads it from a file, as the docs say. */
  private static final String TOKEN = "real-prometheus-token";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static Server secured() throws Exception {
    return Server.start(ServerConfig.defaults().forTest(0).withToken(TOKEN)).toCompletionStage().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  /** The token in a file, as Prometheus' credentials_file reads it; and /metrics refuses a scrape without it. */
  private Path tokenFile(Path tmp, String lw) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(lw + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(401, r.statusCode(), "/metrics without the token: " + r.body());
    return Files.writeString(tmp.resolve("losswatch-token"), TOKEN + "\n");
  }

  @Test
  void alertsFireAndEveryPanelHasData() throws Exception {
    Ops.requireTool(PROMETHEUS, "RealPrometheusIT");
    Path tmp = Files.createTempDirectory("losswatch-prometheus");
    Server server = secured();
    Process prometheus = null;
    try {
      System.gc();   // the GC panels read jvm_gc_pause_seconds, which exists once a collection happened
      String lw = "http://127.0.0.1:" + server.port();
      String diverging = createRun(lw, "1.1");
      String converging = createRun(lw, "0.1");
      String external = externalRun(lw);

      int promPort = freePort();
      String prom = "http://127.0.0.1:" + promPort;
      Path log = tmp.resolve("prometheus.log");
      prometheus = startPrometheus(tmp, promPort, String.join("\n",
          "global:",
          "  scrape_interval: 1s",
          "  evaluation_interval: 1s",
          "rule_files:",
          "  - " + Ops.repo().resolve("dashboards/prometheus/alerts.yml"),
          "scrape_configs:",
          "  - job_name: losswatch",
          "    authorization:",
          "      credentials_file: " + tokenFile(tmp, lw),
          "    static_configs:",
          "      - targets: [\"127.0.0.1:" + server.port() + "\"]",
          ""));
      waitReady(prom, prometheus, log);
      // too slow from its first few dozen steps, and done in 8 s
      String slow = createRun(lw, "{\"name\":\"slow\",\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\","
          + "\"lr\":0.001},\"steps\":320,\"steps_per_second\":40}");
      endedRunsVerdictDoesNotAlert(prom, slow);

      // the divergence alert fires for lr=1.1; no alert, not even pending, for lr=0.1
      boolean diagnosis = metrics(lw).contains("losswatch_run_diagnosis{");
      Set<String> expected = new TreeSet<>(List.of("LosswatchLossExploding"));
      if (diagnosis) expected.add("LosswatchDiagnosisDiverging");
      Set<String> seenForBad = new TreeSet<>();
      Set<String> seenForGood = new TreeSet<>();
      long end = System.nanoTime() + ALERT_DEADLINE.toNanos();
      while (!seenForBad.containsAll(expected)) {
        if (System.nanoTime() > end) {
          fail("within " + ALERT_DEADLINE.toSeconds() + " s, only " + seenForBad + " fired for lr=1.1, not all of "
              + expected + "; alerts: " + get(prom + "/api/v1/alerts") + "\nprometheus log:\n" + Files.readString(log));
        }
        for (Map<String, Object> a : alerts(prom)) {
          Map<String, Object> labels = Ops.map(a.get("labels"));
          if (diverging.equals(labels.get("run")) && "firing".equals(a.get("state"))) {
            seenForBad.add((String) labels.get("alertname"));
          }
          if (converging.equals(labels.get("run"))) seenForGood.add(labels.get("alertname") + " (" + a.get("state") + ")");
        }
        pause();
      }
      assertTrue(seenForGood.isEmpty(), "alerts for the converging lr=0.1 run: " + seenForGood);
      System.out.println("RealPrometheusIT: fired for lr=1.1: " + seenForBad
          + (diagnosis ? "" : "; losswatch_run_diagnosis is not in /metrics, LosswatchDiagnosisDiverging not awaited"));

      checkPanels(lw, prom, diverging + "|" + converging + "|" + external, Set.of(diverging, converging, external));
      // the runs-with-configs table reads the script's config and tags from losswatch_run_info's labels
      Map<String, Object> info = Ops.map(Json.parse(get(prom + "/api/v1/query?query=" + enc("losswatch_run_info{run=\"" + external
          + "\", tags=\"baseline\", config_schedule=\"cosine\", config_batch_size=\"64\", lr=\"\"}"))));
      assertEquals(1, Ops.list(Ops.map(info.get("data")).get("result")).size(), "the external run's info: " + info);
      assertTrue(seenForGoodAfter(prom, converging).isEmpty(),
          "alerts for the converging lr=0.1 run: " + seenForGoodAfter(prom, converging));
    } finally {
      if (prometheus != null) {
        prometheus.destroy();
        if (!prometheus.waitFor(10, TimeUnit.SECONDS)) prometheus.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      deleteTree(tmp);
    }
  }

  /** Runs every dashboard query, with the variables filled in, until each returns data or the deadline passes. */
  private void checkPanels(String lw, String prom, String runRegex, Set<String> runIds) throws Exception {
    String exported = metrics(lw);
    Map<String, String> queries = new LinkedHashMap<>();     // what → PromQL
    Map<String, String> variableQueries = new LinkedHashMap<>();
    List<String> skipped = new ArrayList<>();
    for (Path f : Ops.dashboardFiles()) {
      Map<String, Object> d = Ops.dashboard(f);
      String title = (String) d.get("title");
      Map<String, String> what = new LinkedHashMap<>();
      for (Map<String, Object> p : Ops.panels(d)) {
        List<Map<String, Object>> targets = Ops.list(p.get("targets"));
        for (Map<String, Object> t : targets) {
          what.put(title + " / panel \"" + Ops.title(p) + "\" " + t.get("refId"), (String) t.get("expr"));
        }
      }
      for (Map<String, Object> a : Ops.prometheusAnnotations(d)) {
        what.put(title + " / annotation \"" + a.get("name") + "\"", (String) a.get("expr"));
      }
      for (Map<String, Object> v : Ops.variables(d)) {
        if ("query".equals(v.get("type"))) {
          variableQueries.put(title + " / variable " + v.get("name"), Ops.variableQuery(v));
        }
      }
      for (Map.Entry<String, String> e : what.entrySet()) {
        Set<String> missing = missingMetrics(e.getValue(), exported);
        if (missing.isEmpty()) queries.put(e.getKey(), fill(e.getValue(), runRegex));
        else skipped.add(e.getKey() + " (" + String.join(", ", missing) + " not in /metrics)");
      }
    }
    for (String s : skipped) System.out.println("SKIPPED RealPrometheusIT query: " + s);

    // variables: label_values(selector, label) through the label values API; the run ids must be among them
    for (Map.Entry<String, String> v : variableQueries.entrySet()) {
      Matcher m = LABEL_VALUES.matcher(v.getValue());
      assertTrue(m.matches(), v.getKey() + ": not label_values(...): " + v.getValue());
      String values = get(prom + "/api/v1/label/" + m.group(2) + "/values?match[]="
          + enc(fill(m.group(1), runRegex)));
      List<?> data = (List<?>) Ops.map(Json.parse(values)).get("data");
      assertTrue(data != null && !data.isEmpty(), v.getKey() + " has no values: " + values);
      if (m.group(2).equals("run")) assertTrue(data.containsAll(runIds), v.getKey() + ": " + data);
    }

    Map<String, String> empty = new LinkedHashMap<>(queries);
    long end = System.nanoTime() + QUERY_DEADLINE.toNanos();
    while (true) {
      for (var it = empty.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, String> e = it.next();
        Map<String, Object> r = Ops.map(Json.parse(get(prom + "/api/v1/query?query=" + enc(e.getValue()))));
        assertEquals("success", r.get("status"), e.getKey() + ": " + e.getValue() + " → " + r);
        if (!Ops.list(Ops.map(r.get("data")).get("result")).isEmpty()) it.remove();
      }
      if (empty.isEmpty() || System.nanoTime() > end) break;
      pause();
    }
    StringBuilder why = new StringBuilder();
    empty.forEach((k, v) -> why.append("\n  ").append(k).append(": ").append(v));
    assertTrue(empty.isEmpty(), "queries without data after " + QUERY_DEADLINE.toSeconds() + " s:" + why);
    System.out.println("RealPrometheusIT: " + queries.size() + " dashboard queries returned data, "
        + variableQueries.size() + " variables had values, " + skipped.size() + " skipped");
  }

  /** The variables of the dashboards as a test fills them: $run the runs made here, every other one "match all". */
  static String fill(String expr, String runRegex) {
    Matcher m = Ops.VARIABLE.matcher(expr);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
      String value = switch (name) {
        case "run" -> runRegex;
        case "__rate_interval", "__range", "__range_s" -> name.equals("__range_s") ? "300" : name.equals("__range")
            ? "5m" : "1m";
        case "__interval" -> "15s";
        case "__interval_ms" -> "15000";
        default -> ".*";
      };
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static Set<String> missingMetrics(String expr, String exported) {
    Set<String> missing = new LinkedHashSet<>();
    Matcher m = METRIC.matcher(expr);
    while (m.find()) {
      String name = m.group(1);
      if (!Pattern.compile("(?m)^" + Pattern.quote(name) + "[{ ]").matcher(exported).find()) missing.add(name);
    }
    return missing;
  }

  /** An external run with an extra scalar, as a script would append it. */
  private String externalRun(String lw) throws Exception {
    String id = createRun(lw, "{\"source\":\"external\",\"name\":\"script\",\"optimizer\":{\"type\":\"adamw\"},"
        + "\"tags\":[\"baseline\"],\"config\":{\"lr\":0.001,\"schedule\":\"cosine\",\"batch_size\":64}}");
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(lw + "/api/runs/" + id + "/steps"))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.ofString(
            "{\"step\":[1,2,3],\"loss\":[2.3,2.1,1.9],\"lr\":[0.001,0.001,0.001],\"grad_norm\":[1,0.9,0.8],"
                + "\"metrics\":{\"val_acc\":[0.1,0.2,0.3]}}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return id;
  }

  /** A textbook run at this lr, paced at 20 steps/s, or the spec given. */
  private String createRun(String lw, String lrOrSpec) throws Exception {
    String spec = lrOrSpec.startsWith("{") ? lrOrSpec : "{\"name\":\"lr=" + lrOrSpec + "\",\"problem\":\"quadratic\","
        + "\"optimizer\":{\"type\":\"sgd\",\"lr\":" + lrOrSpec + "},\"steps\":100000,\"steps_per_second\":20}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(lw + "/api/runs"))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.ofString(spec))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, r.statusCode(), r.body());
    return (String) Ops.map(Json.parse(r.body())).get("id");
  }

  private List<Map<String, Object>> alerts(String prom) throws Exception {
    return Ops.list(Ops.map(Ops.map(Json.parse(get(prom + "/api/v1/alerts"))).get("data")).get("alerts"));
  }

  private Set<String> seenForGoodAfter(String prom, String run) throws Exception {
    Set<String> out = new TreeSet<>();
    for (Map<String, Object> a : alerts(prom)) {
      Map<String, Object> labels = Ops.map(a.get("labels"));
      if (run.equals(labels.get("run"))) out.add(labels.get("alertname") + " (" + a.get("state") + ")");
    }
    return out;
  }

  private String metrics(String lw) throws Exception {
    return get(lw + "/metrics");
  }

  private String get(String url) throws Exception {
    // the token too: Prometheus' and Alertmanager's APIs ignore it, the server's reads need it
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + TOKEN)
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) fail("GET " + url + " → " + r.statusCode() + ": " + r.body());
    return r.body();
  }

  /**
   * The run that finishes while too slow: LosswatchDiagnosisTooSlow is pending while it runs (so the rule matches
   * it), and once Prometheus has seen it finished, with its too_slow verdict still in /metrics, the alert is gone,
   * and stays gone for the next evaluations (it would otherwise fire 2 minutes after the verdict came).
   */
  private void endedRunsVerdictDoesNotAlert(String prom, String run) throws Exception {
    String alert = "ALERTS{alertname=\"LosswatchDiagnosisTooSlow\", run=\"" + run + "\"}";
    long end = System.nanoTime() + ALERT_DEADLINE.toNanos();
    String pending = "ALERTS{alertname=\"LosswatchDiagnosisTooSlow\", alertstate=\"pending\", run=\"" + run + "\"}";
    while (query(prom, pending).isEmpty()) {
      assertTrue(System.nanoTime() < end, "LosswatchDiagnosisTooSlow never pending for the too_slow run " + run);
      pause();
    }
    String ended = "losswatch_run_state{run=\"" + run + "\", state=\"finished\"} == 1 and on (run) "
        + "losswatch_run_diagnosis{run=\"" + run + "\", verdict=\"too_slow\"} == 1";
    while (query(prom, ended).isEmpty()) {
      assertTrue(System.nanoTime() < end, "Prometheus did not see the too_slow run " + run + " finished");
      pause();
    }
    // evaluations after the finished state was scraped: the group's last evaluation must move three times
    double seen = lastEvaluation(prom);
    for (int evaluations = 0; evaluations < 3; ) {
      assertTrue(System.nanoTime() < end, "the rules were not evaluated");
      double now = lastEvaluation(prom);
      if (now > seen) {
        seen = now;
        evaluations++;
        if (evaluations > 1) assertEquals(List.of(), query(prom, alert), "an alert for the ended too_slow run");
      }
      pause();
    }
    System.out.println("RealPrometheusIT: LosswatchDiagnosisTooSlow pending while the too_slow run ran, gone once "
        + "it finished (its too_slow verdict still in /metrics)");
  }

  private List<Map<String, Object>> query(String prom, String promql) throws Exception {
    Map<String, Object> r = Ops.map(Json.parse(get(prom + "/api/v1/query?query=" + enc(promql))));
    assertEquals("success", r.get("status"), promql + " → " + r);
    return Ops.list(Ops.map(r.get("data")).get("result"));
  }

  /** When Prometheus last evaluated the losswatch group, Unix seconds (0 before the first). */
  private double lastEvaluation(String prom) throws Exception {
    Map<String, Object> r = Ops.map(Json.parse(get(prom + "/api/v1/rules")));
    for (Map<String, Object> g : Ops.list(Ops.map(r.get("data")).get("groups"))) {
      if ("losswatch".equals(g.get("name"))) {
        String t = (String) g.get("lastEvaluation");
        return t.startsWith("0001") ? 0 : java.time.Instant.parse(t).toEpochMilli() / 1000.0;
      }
    }
    return fail("no rule group losswatch: " + r);
  }

  private static Process startPrometheus(Path tmp, int port, String config) throws IOException {
    Path file = tmp.resolve("prometheus.yml");
    Files.writeString(file, config);
    return new ProcessBuilder(PROMETHEUS, "--config.file=" + file, "--storage.tsdb.path=" + tmp.resolve("data"),
        "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
        .redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile()).start();
  }

  /** docs/operations.md's "Your own Prometheus" snippet: the yaml block after that heading's paragraph. */
  static String docsSnippet() {
    String doc = Ops.read(Ops.repo().resolve("docs/operations.md"));
    int at = doc.indexOf("### Your own Prometheus");
    assertTrue(at >= 0, "docs/operations.md has no \"### Your own Prometheus\"");
    int start = doc.indexOf("```yaml\n", at);
    int end = doc.indexOf("```\n", start + 8);
    assertTrue(start > 0 && end > start, "no yaml block after \"### Your own Prometheus\"");
    return doc.substring(start + 8, end);
  }

  @Test
  void theDocsPrometheusSnippetFiresAndReachesAlertmanager() throws Exception {
    Ops.requireTool(PROMETHEUS, "RealPrometheusIT (docs/operations.md snippet)");
    Ops.requireTool(ALERTMANAGER, "RealPrometheusIT (docs/operations.md snippet)");
    String snippet = docsSnippet();
    for (String placeholder : List.of("/path/to/losswatch/", "trainer-host:8080", "alertmanager-host:9093",
        "/path/to/losswatch-token")) {
      assertTrue(snippet.contains(placeholder), "docs/operations.md's snippet has no " + placeholder);
    }
    Path tmp = Files.createTempDirectory("losswatch-readme-prometheus");
    Server server = secured();
    Process alertmanager = null;
    Process prometheus = null;
    try {
      int amPort = freePort();
      String am = "http://127.0.0.1:" + amPort;
      Path amLog = tmp.resolve("alertmanager.log");
      alertmanager = new ProcessBuilder(ALERTMANAGER,
          "--config.file=" + Ops.repo().resolve("dashboards/alertmanager/alertmanager.yml"),
          "--storage.path=" + tmp.resolve("am"), "--web.listen-address=127.0.0.1:" + amPort,
          "--cluster.listen-address=", "--log.level=warn")
          .redirectErrorStream(true).redirectOutput(amLog.toFile()).start();
      waitReady(am, alertmanager, amLog);

      String lw = "http://127.0.0.1:" + server.port();
      String diverging = createRun(lw, "1.1");
      int promPort = freePort();
      String prom = "http://127.0.0.1:" + promPort;
      Path log = tmp.resolve("prometheus.log");
      String config = snippet.replace("/path/to/losswatch-token", tokenFile(tmp, lw).toString())
          .replace("/path/to/losswatch/", Ops.repo() + "/")
          .replace("trainer-host:8080", "127.0.0.1:" + server.port())
          .replace("alertmanager-host:9093", "127.0.0.1:" + amPort);
      long started = System.nanoTime();
      prometheus = startPrometheus(tmp, promPort, config);
      waitReady(prom, prometheus, log);
      assertTrue(lastEvaluation(prom) >= 0);   // the rule group is loaded

      Map<String, Long> firedAfterMs = new TreeMap<>();
      Set<String> expected = Set.of("LosswatchLossExploding", "LosswatchDiagnosisDiverging");
      long end = started + SNIPPET_DEADLINE.toNanos();
      while (!firedAfterMs.keySet().containsAll(expected)) {
        if (System.nanoTime() > end) {
          fail("with docs/operations.md's snippet, within " + SNIPPET_DEADLINE.toSeconds() + " s only " + firedAfterMs.keySet()
              + " fired of " + expected + "; alerts: " + get(prom + "/api/v1/alerts") + "\nconfig:\n" + config
              + "\nprometheus log:\n" + Files.readString(log));
        }
        for (Map<String, Object> a : alerts(prom)) {
          Map<String, Object> labels = Ops.map(a.get("labels"));
          if (diverging.equals(labels.get("run")) && "firing".equals(a.get("state"))) {
            firedAfterMs.putIfAbsent((String) labels.get("alertname"), (System.nanoTime() - started) / 1_000_000);
          }
        }
        pause();
      }
      // Prometheus sends firing alerts to Alertmanager at once (its own group_wait is about notifying, not receiving)
      Set<String> received = new TreeSet<>();
      while (!received.containsAll(expected)) {
        assertTrue(System.nanoTime() < end + TimeUnit.SECONDS.toNanos(10), "Alertmanager received only " + received
            + ": " + get(am + "/api/v2/alerts") + "\nalertmanager log:\n" + Files.readString(amLog));
        for (Object o : (List<?>) Json.parse(get(am + "/api/v2/alerts"))) {
          Map<String, Object> labels = Ops.map(Ops.map(o).get("labels"));
          if (diverging.equals(labels.get("run"))) received.add((String) labels.get("alertname"));
        }
        pause();
      }
      System.out.println("RealPrometheusIT: with docs/operations.md's snippet, after Prometheus started: "
          + firedAfterMs.entrySet().stream().map(e -> e.getKey() + " fired in " + e.getValue() / 100 / 10.0 + " s")
              .collect(java.util.stream.Collectors.joining(", ")) + "; Alertmanager received " + received);
    } finally {
      for (Process p : new Process[] {prometheus, alertmanager}) {
        if (p == null) continue;
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      server.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      deleteTree(tmp);
    }
  }

  private void waitReady(String prom, Process p, Path log) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < end) {
      if (!p.isAlive()) fail(log.getFileName() + ": exited " + p.exitValue() + ":\n" + Files.readString(log));
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(prom + "/-/ready"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
      } catch (IOException notYet) {
        // not listening yet
      }
      pause();
    }
    fail(log.getFileName() + ": not ready in 30 s:\n" + Files.readString(log));
  }

  /** The polling period: each poll has a deadline; this only spaces the requests. */
  private static void pause() throws InterruptedException {
    Thread.sleep(250);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
