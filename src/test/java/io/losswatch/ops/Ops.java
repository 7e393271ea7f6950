package io.losswatch.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.losswatch.core.config.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.yaml.snakeyaml.Yaml;

/** What the tests of dashboards/ and docker-compose.yml share: the files, the tools, the dashboards' structure. */
final class Ops {
  /** Grafana's built-in variables ($__rate_interval, $__range, ...) start with two underscores. */
  static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)(?:[:.][^}]*)?}|\\$(\\w+)|\\[\\[(\\w+)(?::[^]]*)?]]");
  static final Map<String, Object> PROMETHEUS = Map.of("type", "prometheus", "uid", "prometheus");

  private Ops() {
  }

  /** The repository: surefire runs the tests in the project's folder. */
  static Path repo() {
    Path p = Path.of("").toAbsolutePath();
    assertTrue(Files.isRegularFile(p.resolve("pom.xml")), "tests must run in the project folder, not " + p);
    return p;
  }

  static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AssertionError("cannot read " + p + ": " + e, e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> yaml(Path p) {
    Object o = new Yaml().load(read(p));
    assertTrue(o instanceof Map, p + " is not a YAML mapping");
    return (Map<String, Object>) o;
  }

  /**
   * Returns if the tool is installed; otherwise skips the test with a notice on stdout, or fails it when
   * LOSSWATCH_REQUIRE_TOOLS=1 (CI: .ci/run installs them).
   */
  static void requireTool(String path, String what) {
    if (Files.isExecutable(Path.of(path))) return;
    String why = path + " is not installed (apt-get install " + (path.endsWith("amtool") ? "prometheus-alertmanager"
        : "prometheus") + ")";
    if ("1".equals(System.getenv("LOSSWATCH_REQUIRE_TOOLS"))) fail(why + " and LOSSWATCH_REQUIRE_TOOLS=1");
    System.out.println("SKIPPED " + what + ": " + why);
    Assumptions.assumeTrue(false, why);
  }

  record Result(int exit, String output) {
  }

  /** Runs a command in the repository and returns its exit status and output (stdout and stderr). */
  static Result run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(repo().toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();   // until the process closes its output
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(String.join(" ", command) + " did not end in 120 s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Runs the command and fails with its output unless it exits 0. */
  static String runOk(String... command) throws Exception {
    Result r = run(command);
    if (r.exit() != 0) fail(String.join(" ", command) + " exited " + r.exit() + ":\n" + r.output());
    return r.output();
  }

  // ---- Grafana dashboards

  static List<Path> dashboardFiles() throws IOException {
    try (Stream<Path> s = Files.list(repo().resolve("dashboards/grafana/dashboards"))) {
      return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> dashboard(Path p) {
    return (Map<String, Object>) Json.parse(read(p));
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Object o) {
    return o == null ? List.of() : (List<Map<String, Object>>) o;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return o == null ? Map.of() : (Map<String, Object>) o;
  }

  /** Every panel, rows' nested panels included, rows themselves excluded. */
  static List<Map<String, Object>> panels(Map<String, Object> dashboard) {
    List<Map<String, Object>> out = new ArrayList<>();
    collect(list(dashboard.get("panels")), out);
    return out;
  }

  private static void collect(List<Map<String, Object>> panels, List<Map<String, Object>> out) {
    for (Map<String, Object> p : panels) {
      if ("row".equals(p.get("type"))) collect(list(p.get("panels")), out);
      else out.add(p);
    }
  }

  /** Every row, for the nesting checks. */
  static List<Map<String, Object>> rows(Map<String, Object> dashboard) {
    return list(dashboard.get("panels")).stream().filter(p -> "row".equals(p.get("type"))).toList();
  }

  static List<String> exprs(Map<String, Object> panel) {
    return list(panel.get("targets")).stream().map(t -> (String) t.get("expr")).toList();
  }

  static List<Map<String, Object>> variables(Map<String, Object> dashboard) {
    return list(map(dashboard.get("templating")).get("list"));
  }

  /** A query variable's query: the string, or the "query" of the object newer Grafana writes. */
  static String variableQuery(Map<String, Object> variable) {
    Object q = variable.get("query");
    if (q instanceof Map<?, ?> m) return (String) m.get("query");
    return (String) q;
  }

  /** The annotations that query Prometheus. */
  static List<Map<String, Object>> prometheusAnnotations(Map<String, Object> dashboard) {
    return list(map(dashboard.get("annotations")).get("list")).stream()
        .filter(a -> "prometheus".equals(map(a.get("datasource")).get("type"))).toList();
  }

  /** The names of the variables an expression refers to, built-ins ($__...) excluded. */
  static Set<String> variableRefs(String expr) {
    Set<String> out = new LinkedHashSet<>();
    Matcher m = VARIABLE.matcher(expr);
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
      if (!name.startsWith("__")) out.add(name);
    }
    return out;
  }

  static String title(Map<String, Object> panel) {
    return String.valueOf(panel.get("title"));
  }
}
