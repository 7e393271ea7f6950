package io.losswatch.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.losswatch.event.RunState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboards, read with the project's own JSON parser: well-formed, every panel on the Prometheus data
 * source the provisioning defines (uid "prometheus"), every variable a query uses defined, and the panels the
 * runs dashboard promises. RealPrometheusIT runs the queries themselves against a real Prometheus.
 */
class DashboardsTest {

  private static Map<String, Map<String, Object>> byTitle() throws Exception {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    for (Path p : Ops.dashboardFiles()) {
      Map<String, Object> d = Ops.dashboard(p);
      out.put(String.valueOf(d.get("title")), d);
    }
    return out;
  }

  @Test
  void everyDashboardIsWellFormed() throws Exception {
    List<Path> files = Ops.dashboardFiles();
    assertTrue(files.size() >= 2, "dashboards: " + files);
    Set<Object> uids = new HashSet<>();
    for (Path f : files) {
      Map<String, Object> d = Ops.dashboard(f);
      String where = f.getFileName().toString();
      assertTrue(d.get("title") instanceof String t && !t.isBlank(), where + ": no title");
      assertTrue(d.get("uid") instanceof String u && u.matches("[a-zA-Z0-9_-]{1,40}"), where + ": uid " + d.get("uid"));
      assertTrue(uids.add(d.get("uid")), where + ": uid used twice: " + d.get("uid"));
      assertTrue(d.get("id") == null, where + ": a provisioned dashboard has no fixed id");
      assertTrue(d.get("schemaVersion") instanceof Double, where + ": no schemaVersion");
      List<Map<String, Object>> panels = Ops.panels(d);
      assertFalse(panels.isEmpty(), where + ": no panels");
      Set<Object> ids = new HashSet<>();
      for (Map<String, Object> row : Ops.rows(d)) assertTrue(ids.add(row.get("id")), where + ": panel id twice");
      for (Map<String, Object> p : panels) {
        String what = where + ", panel \"" + Ops.title(p) + "\"";
        assertTrue(ids.add(p.get("id")), what + ": its id is used twice");
        assertTrue(p.get("gridPos") instanceof Map, what + ": no gridPos");
        assertTrue(p.get("type") instanceof String, what + ": no type");
        assertEquals(Ops.PROMETHEUS, p.get("datasource"), what + ": datasource");
        List<Map<String, Object>> targets = Ops.list(p.get("targets"));
        assertFalse(targets.isEmpty(), what + ": no queries");
        Set<Object> refs = new HashSet<>();
        for (Map<String, Object> t : targets) {
          if (t.containsKey("datasource")) assertEquals(Ops.PROMETHEUS, t.get("datasource"), what + ": a query's datasource");
          assertTrue(t.get("expr") instanceof String e && !e.isBlank(), what + ": a query without expr");
          assertTrue(refs.add(t.get("refId")), what + ": refId twice");
        }
      }
    }
  }

  @Test
  void everyVariableUsedIsDefined() throws Exception {
    for (Path f : Ops.dashboardFiles()) {
      Map<String, Object> d = Ops.dashboard(f);
      String where = f.getFileName().toString();
      List<String> defined = new ArrayList<>();
      Map<String, String> queries = new LinkedHashMap<>();
      for (Map<String, Object> v : Ops.variables(d)) {
        String name = (String) v.get("name");
        assertFalse(defined.contains(name), where + ": variable " + name + " defined twice");
        if ("query".equals(v.get("type"))) {
          assertEquals(Ops.PROMETHEUS, v.get("datasource"), where + ": variable " + name + "'s datasource");
          String q = Ops.variableQuery(v);
          assertTrue(q != null && !q.isBlank(), where + ": variable " + name + " has no query");
          // a variable may use the ones defined before it (Grafana resolves them in order)
          for (String ref : Ops.variableRefs(q)) {
            assertTrue(defined.contains(ref), where + ": variable " + name + " uses $" + ref + " before it is defined");
          }
        }
        defined.add(name);
      }
      for (Map<String, Object> p : Ops.panels(d)) {
        for (String e : Ops.exprs(p)) queries.put("panel \"" + Ops.title(p) + "\": " + e, e);
      }
      for (Map<String, Object> a : Ops.prometheusAnnotations(d)) {
        assertEquals(Ops.PROMETHEUS, a.get("datasource"), where + ": annotation " + a.get("name") + "'s datasource");
        queries.put("annotation \"" + a.get("name") + "\": " + a.get("expr"), (String) a.get("expr"));
      }
      for (Map.Entry<String, String> q : queries.entrySet()) {
        for (String ref : Ops.variableRefs(q.getValue())) {
          assertTrue(defined.contains(ref), where + ", " + q.getKey() + ": $" + ref + " is not a variable of " + defined);
        }
      }
    }
  }

  private static Map<String, Object> panel(Map<String, Object> d, String what, Predicate<Map<String, Object>> p) {
    List<Map<String, Object>> found = Ops.panels(d).stream().filter(p).toList();
    if (found.isEmpty()) fail(d.get("title") + " has no panel for " + what);
    return found.get(0);
  }

  private static Predicate<Map<String, Object>> queries(String fragment) {
    return p -> Ops.exprs(p).stream().anyMatch(e -> e.contains(fragment));
  }

  private static Object scale(Map<String, Object> panel) {
    Map<String, Object> custom = Ops.map(Ops.map(Ops.map(panel.get("fieldConfig")).get("defaults")).get("custom"));
    return Ops.map(custom.get("scaleDistribution")).get("type");
  }

  @Test
  void runsDashboardHasItsPanels() throws Exception {
    Map<String, Object> d = byTitle().get("losswatch runs");
    assertTrue(d != null, "no dashboard titled \"losswatch runs\"");

    Map<String, Object> run = Ops.variables(d).stream().filter(v -> "run".equals(v.get("name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no run variable"));
    assertEquals("query", run.get("type"));
    assertEquals("label_values(losswatch_step, run)", Ops.variableQuery(run));
    assertEquals(Boolean.TRUE, run.get("multi"), "run: multi-select");
    assertEquals(Boolean.TRUE, run.get("includeAll"), "run: include All");

    Map<String, Object> loss = panel(d, "the loss", queries("losswatch_loss{"));
    assertEquals("log", scale(loss), "the loss panel's y axis: fieldConfig.defaults.custom.scaleDistribution.type");
    assertEquals("timeseries", loss.get("type"));
    assertEquals("timeseries", panel(d, "the learning rate", queries("losswatch_learning_rate{")).get("type"));
    assertEquals("timeseries", panel(d, "the gradient norm", queries("losswatch_grad_norm{")).get("type"));
    panel(d, "steps/s", queries("rate(losswatch_steps_total{").and(p -> "timeseries".equals(p.get("type"))));
    // issue 23: the stability ratio over time, with its limit drawn at 1
    Map<String, Object> stability = panel(d, "the stability", queries("losswatch_stability{"));
    assertEquals("timeseries", stability.get("type"));
    Map<String, Object> defaults = Ops.map(Ops.map(stability.get("fieldConfig")).get("defaults"));
    assertEquals("line", Ops.map(Ops.map(defaults.get("custom")).get("thresholdsStyle")).get("mode"), "the line at 1");
    assertEquals(1.0, ((Map<?, ?>) ((List<?>) Ops.map(defaults.get("thresholds")).get("steps")).get(1)).get("value"));
    panel(d, "the diagnosis", queries("losswatch_run_diagnosis").and(p -> "state-timeline".equals(p.get("type"))));
    panel(d, "the runs' states", queries("losswatch_run_state").and(p -> "state-timeline".equals(p.get("type"))));
    // an ended run's series stay for --metrics-retention with their last values: the time series and the
    // diagnosis timeline show a run while it is running or paused only, so a line stops when its run ends
    for (String series : List.of("losswatch_loss{", "losswatch_learning_rate{", "losswatch_grad_norm{",
        "losswatch_stability{", "losswatch_run_diagnosis{")) {
      for (Map<String, Object> p : Ops.panels(d)) {
        if (!"table".equals(p.get("type")) && Ops.exprs(p).stream().anyMatch(e -> e.contains(series))) {
          for (String e : Ops.exprs(p)) {
            assertTrue(e.contains("and on (instance, run) losswatch_run_state{")
                && e.contains("state=~\"running|paused\"}"),
                "panel \"" + Ops.title(p) + "\" shows ended runs as if current: " + e);
          }
        }
      }
    }
    Map<String, Object> table = panel(d, "a table of runs", queries("losswatch_step{"));
    assertTrue(Ops.exprs(table).stream().anyMatch(e -> e.startsWith("losswatch_run_state{")),
        "the runs table has no state");
    panel(d, "a table of runs", queries("losswatch_step{").and(p -> "table".equals(p.get("type"))));
    for (Map<String, Object> p : Ops.panels(d)) {
      for (String e : Ops.exprs(p)) {
        if (e.contains("losswatch_") && !e.startsWith("ALERTS")) {
          assertTrue(e.contains("$run"), "panel \"" + Ops.title(p) + "\" ignores the run variable: " + e);
        }
      }
    }

    // every metric a script logs, by its name: a variable of the names and a panel repeated over it
    Map<String, Object> metric = Ops.variables(d).stream().filter(v -> "metric".equals(v.get("name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no metric variable"));
    assertEquals("label_values(losswatch_metric{run=~\"$run\"}, metric)", Ops.variableQuery(metric));
    assertEquals(Boolean.TRUE, metric.get("multi"), "metric: multi-select");
    assertEquals(Boolean.TRUE, metric.get("includeAll"), "metric: include All");
    Map<String, Object> byName = panel(d, "a metric by name", queries("losswatch_metric{").and(p -> "metric".equals(p.get("repeat"))));
    assertEquals("timeseries", byName.get("type"));
    assertTrue(Ops.exprs(byName).get(0).contains("metric=~\"$metric\""), "the repeated panel shows its own metric");
    assertTrue(String.valueOf(byName.get("title")).contains("$metric"), "titled by its metric");
    // a table of runs with their configs (losswatch_run_info's labels), beside their losses
    Map<String, Object> configs = panel(d, "runs with their configs", queries("losswatch_run_info{").and(p -> "table".equals(p.get("type"))));
    assertTrue(Ops.exprs(configs).stream().anyMatch(e -> e.contains("losswatch_loss{")), "the configs table has no loss");
    panel(d, "each metric's latest value by run", queries("losswatch_metric{").and(p -> "table".equals(p.get("type"))));

    List<Map<String, Object>> alerts = Ops.prometheusAnnotations(d).stream()
        .filter(a -> String.valueOf(a.get("expr")).startsWith("ALERTS{")).toList();
    assertEquals(1, alerts.size(), "one annotation on Prometheus' ALERTS");
    Map<String, Object> a = alerts.get(0);
    assertTrue(((String) a.get("expr")).contains("alertname=~\"Losswatch.*\""), "the annotation's expr: " + a.get("expr"));
    assertEquals(Boolean.TRUE, a.get("enable"), "the alerts annotation is on");
    assertTrue(a.get("titleFormat") != null, "the alerts annotation has a title");
  }

  @Test
  void diagnosisTimelineMapsEveryVerdict() throws Exception {
    Map<String, Object> d = byTitle().get("losswatch runs");
    Map<String, Object> p = panel(d, "the diagnosis", queries("losswatch_run_diagnosis"));
    String expr = Ops.exprs(p).get(0);
    List<String> texts = new ArrayList<>();
    for (Map<String, Object> m : Ops.list(Ops.map(Ops.map(p.get("fieldConfig")).get("defaults")).get("mappings"))) {
      for (Object o : Ops.map(m.get("options")).values()) texts.add((String) Ops.map(o).get("text"));
    }
    for (String v : List.of("unknown", "converging", "converged", "too_slow", "oscillating", "diverging",
        "non_finite")) {
      assertTrue(expr.contains("verdict=\"" + v + "\""), "the timeline's query leaves out " + v);
      assertTrue(texts.contains(v), "no value mapping shows " + v);
    }
  }

  @Test
  void stateTimelineMapsEveryState() throws Exception {
    Map<String, Object> d = byTitle().get("losswatch runs");
    Map<String, Object> p = panel(d, "the runs' states", queries("losswatch_run_state")
        .and(x -> "state-timeline".equals(x.get("type"))));
    String expr = Ops.exprs(p).get(0);
    List<String> texts = new ArrayList<>();
    for (Map<String, Object> m : Ops.list(Ops.map(Ops.map(p.get("fieldConfig")).get("defaults")).get("mappings"))) {
      for (Object o : Ops.map(m.get("options")).values()) texts.add((String) Ops.map(o).get("text"));
    }
    for (RunState s : RunState.values()) {
      if (s == RunState.DELETED) continue;   // a deleted run's series are gone
      assertTrue(expr.contains("state=\"" + s.label() + "\""), "the state timeline's query leaves out " + s.label());
      assertTrue(texts.contains(s.label()), "no value mapping shows " + s.label());
    }
  }

  @Test
  void serverDashboardHasItsPanels() throws Exception {
    Map<String, Object> d = byTitle().get("losswatch server");
    assertTrue(d != null, "no dashboard titled \"losswatch server\"");
    for (String metric : List.of("vertx_eventbus_published_total", "losswatch_ws_clients",
        "rate(losswatch_ws_dropped_total", "losswatch_runs{", "jvm_memory_used_bytes", "jvm_gc_pause_seconds",
        "jvm_threads_live_threads", "vertx_http_server_requests_total")) {
      panel(d, metric, queries(metric));
    }
  }

  @Test
  void provisioningPointsAtPrometheus() {
    Map<String, Object> ds = Ops.yaml(Ops.repo().resolve("dashboards/grafana/provisioning/datasources/prometheus.yml"));
    Map<String, Object> prom = Ops.list(ds.get("datasources")).stream()
        .filter(x -> "prometheus".equals(x.get("uid"))).findFirst()
        .orElseThrow(() -> new AssertionError("no data source with uid prometheus"));
    assertEquals("prometheus", prom.get("type"));
    assertEquals("http://prometheus:9090", prom.get("url"));
    Map<String, Object> providers = Ops.yaml(Ops.repo().resolve("dashboards/grafana/provisioning/dashboards/losswatch.yml"));
    Map<String, Object> file = Ops.list(providers.get("providers")).get(0);
    assertEquals("file", file.get("type"));
    assertTrue(Ops.map(file.get("options")).get("path") instanceof String, "the provider has no path");
  }
}
