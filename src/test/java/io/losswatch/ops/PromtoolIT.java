package io.losswatch.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus side checked by Prometheus' own tools: the config and the rules load, and alerts_test.yml's unit
 * tests pass; plus what promtool cannot say: every rule is tested both firing and not firing, on NaN and
 * infinite losses too, and every rule carries a severity and its annotations. amtool checks Alertmanager's config.
 */
class PromtoolIT {
  private static final String PROMTOOL = "/usr/bin/promtool";
  private static final String AMTOOL = "/usr/bin/amtool";

  /** Where compose mounts the servers' token for Prometheus (docker-compose.yml's secret losswatch_token). */
  static final String TOKEN_FILE = "/run/secrets/losswatch_token";

  /**
   * {@code promtool check config} on a config of dashboards/prometheus, as compose runs it: beside its rule files,
   * the token file it scrapes with where compose mounts it (promtool checks the file is there; here, a copy of the
   * config names a temporary one instead).
   */
  private static String checkConfig(String name) throws Exception {
    Path dir = Files.createTempDirectory("losswatch-promtool");
    try {
      Path token = Files.writeString(dir.resolve("losswatch_token"), "the-token\n");
      String config = Ops.read(Ops.repo().resolve("dashboards/prometheus/" + name));
      assertTrue(config.contains("credentials_file: " + TOKEN_FILE), name + " scrapes with the servers' token");
      Files.writeString(dir.resolve(name), config.replace(TOKEN_FILE, token.toString()));
      Files.copy(Ops.repo().resolve("dashboards/prometheus/alerts.yml"), dir.resolve("alerts.yml"));
      return Ops.runOk(PROMTOOL, "check", "config", dir.resolve(name).toString());
    } finally {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) Files.delete(f);
      }
      Files.delete(dir);
    }
  }

  @Test
  void configLoads() throws Exception {
    Ops.requireTool(PROMTOOL, "PromtoolIT.configLoads");
    // check config also loads the rule files it names (alerts.yml, relative to the config)
    String out = checkConfig("prometheus.yml");
    assertTrue(out.contains("1 rule files found"), out);
  }

  @Test
  void clusterConfigLoads() throws Exception {
    Ops.requireTool(PROMTOOL, "PromtoolIT.clusterConfigLoads");
    // docker-compose.yml's cluster profile: every node a target of the job losswatch, the same rules
    String out = checkConfig("prometheus-cluster.yml");
    assertTrue(out.contains("1 rule files found"), out);
  }

  @Test
  void rulesLoad() throws Exception {
    Ops.requireTool(PROMTOOL, "PromtoolIT.rulesLoad");
    Ops.runOk(PROMTOOL, "check", "rules", "dashboards/prometheus/alerts.yml");
  }

  @Test
  void ruleUnitTestsPass() throws Exception {
    Ops.requireTool(PROMTOOL, "PromtoolIT.ruleUnitTestsPass");
    String out = Ops.runOk(PROMTOOL, "test", "rules", "dashboards/prometheus/alerts_test.yml");
    assertTrue(out.contains("SUCCESS"), out);
  }

  @Test
  void alertmanagerConfigLoads() throws Exception {
    Ops.requireTool(AMTOOL, "PromtoolIT.alertmanagerConfigLoads");
    Ops.runOk(AMTOOL, "check-config", "dashboards/alertmanager/alertmanager.yml");
  }

  /** alerts.yml's alerting rules, by name. */
  static Map<String, Map<String, Object>> rules() {
    Map<String, Object> file = Ops.yaml(Ops.repo().resolve("dashboards/prometheus/alerts.yml"));
    List<Map<String, Object>> groups = Ops.list(file.get("groups"));
    assertEquals(List.of("losswatch"), groups.stream().map(g -> g.get("name")).toList());
    Map<String, Map<String, Object>> rules = new LinkedHashMap<>();
    for (Map<String, Object> r : Ops.list(groups.get(0).get("rules"))) {
      String name = (String) r.get("alert");
      assertTrue(name != null, "a recording rule or a rule without a name: " + r);
      assertTrue(rules.put(name, r) == null, "two rules named " + name);
    }
    return rules;
  }

  @Test
  void everyRuleIsTestedFiringAndNotFiring() {
    Map<String, Object> tests = Ops.yaml(Ops.repo().resolve("dashboards/prometheus/alerts_test.yml"));
    assertEquals(List.of("alerts.yml"), tests.get("rule_files"));
    Set<String> firing = new LinkedHashSet<>();
    Set<String> silent = new LinkedHashSet<>();
    StringBuilder values = new StringBuilder();
    for (Map<String, Object> group : Ops.list(tests.get("tests"))) {
      for (Map<String, Object> s : Ops.list(group.get("input_series"))) values.append(s.get("values")).append(' ');
      for (Map<String, Object> t : Ops.list(group.get("alert_rule_test"))) {
        String name = (String) t.get("alertname");
        if (Ops.list(t.get("exp_alerts")).isEmpty()) silent.add(name);
        else firing.add(name);
      }
    }
    Set<String> names = rules().keySet();
    List<String> missing = new ArrayList<>();
    for (String n : names) {
      if (!firing.contains(n)) missing.add(n + " (firing)");
      if (!silent.contains(n)) missing.add(n + " (not firing)");
    }
    assertTrue(missing.isEmpty(), "rules without a test: " + missing);
    Set<String> unknown = new LinkedHashSet<>(firing);
    unknown.addAll(silent);
    unknown.removeAll(names);
    assertTrue(unknown.isEmpty(), "tests of rules that do not exist: " + unknown);
    String v = " " + values;
    assertTrue(v.contains(" NaN "), "no NaN among the test inputs");
    assertTrue(v.contains(" +Inf"), "no +Inf among the test inputs");
    assertTrue(v.contains(" -Inf "), "no -Inf among the test inputs");
  }

  @Test
  void everyRuleHasSeverityAndAnnotations() {
    Map<String, Map<String, Object>> rules = rules();
    for (String verdict : List.of("Diverging", "NonFinite", "Oscillating", "TooSlow")) {
      assertTrue(rules.containsKey("LosswatchDiagnosis" + verdict), "no rule on the diagnosis " + verdict);
    }
    for (String n : List.of("LosswatchLossNaN", "LosswatchLossInfinite", "LosswatchLossExploding", "LosswatchLossFlat",
        "LosswatchRunStalled", "LosswatchRunStorage", "LosswatchRunDead")) {
      assertTrue(rules.containsKey(n), "no rule " + n);
    }
    for (Map.Entry<String, Map<String, Object>> e : rules.entrySet()) {
      String n = e.getKey();
      Map<String, Object> r = e.getValue();
      assertTrue(n.startsWith("Losswatch"), n + ": the runs dashboard's annotation matches Losswatch.*");
      Object severity = Ops.map(r.get("labels")).get("severity");
      assertTrue(List.of("critical", "warning", "info").contains(severity), n + ": severity " + severity);
      Map<String, Object> ann = Ops.map(r.get("annotations"));
      String summary = (String) ann.get("summary");
      String description = (String) ann.get("description");
      assertTrue(summary != null && !summary.isBlank(), n + ": no summary");
      assertTrue(description != null && !description.isBlank(), n + ": no description");
      String expr = (String) r.get("expr");
      if (expr.contains("losswatch_loss") || expr.contains("losswatch_run_diagnosis")) {
        assertTrue(summary.contains("{{ $labels.name }}"), n + ": the summary should name the run");
        assertTrue(description.contains("{{ $labels.run }}"), n + ": the description should give the run's id");
        assertTrue(description.contains("÷10") || description.contains("×10"),
            n + ": the description should say which way to move the learning rate");
      }
      assertFalse(description.contains("\n"), n + ": a folded description has no line breaks");
    }
  }

  /**
   * An ended run's series stay in /metrics for --metrics-retention, with their last values: a rule that reads a
   * run's series must ask for the run's state too, and match it to the same run of the same server.
   */
  @Test
  void everyRuleOnARunAsksForItsState() {
    for (Map.Entry<String, Map<String, Object>> e : rules().entrySet()) {
      String expr = (String) e.getValue().get("expr");
      if (!expr.contains("losswatch_loss") && !expr.contains("losswatch_run_") && !expr.contains("losswatch_step")) {
        continue;
      }
      assertTrue(expr.contains("losswatch_run_state{state="),
          e.getKey() + " does not ask for the run's state: " + expr);
      if (!expr.trim().startsWith("losswatch_run_state")) {
        assertTrue(expr.contains("and on (job, instance, run) losswatch_run_state{state="),
            e.getKey() + " should match the state on (job, instance, run): " + expr);
      }
    }
  }
}
