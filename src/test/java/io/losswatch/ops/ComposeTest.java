package io.losswatch.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.losswatch.core.config.SpecException;
import io.losswatch.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml and the Dockerfile, without Docker: the services the configs name exist and publish the
 * ports they are reached on, every file mounted exists, every path a service is told about inside its container
 * lands on a file of this repository, and the server accepts the command line it is given.
 */
class ComposeTest {
  private static final Map<String, Integer> PORTS = Map.of("losswatch", 8080, "prometheus", 9090,
      "alertmanager", 9093, "grafana", 3000);

  private static Map<String, Object> compose() {
    return Ops.yaml(Ops.repo().resolve("docker-compose.yml"));
  }

  private static Map<String, Object> service(String name) {
    Map<String, Object> s = Ops.map(Ops.map(compose().get("services")).get(name));
    assertTrue(!s.isEmpty(), "docker-compose.yml has no service " + name);
    return s;
  }

  @SuppressWarnings("unchecked")
  private static List<String> strings(Object o) {
    if (o == null) return List.of();
    if (o instanceof String s) return List.of(s.split("\\s+"));
    return ((List<Object>) o).stream().map(String::valueOf).toList();
  }

  /** "host:container" (or host_ip:host:container) short syntax, or the long syntax's published/target. */
  private static List<int[]> ports(Map<String, Object> service) {
    List<int[]> out = new ArrayList<>();
    Object ports = service.get("ports");
    if (ports == null) return out;
    for (Object p : (List<?>) ports) {
      if (p instanceof Map<?, ?> m) {
        out.add(new int[] {Integer.parseInt(String.valueOf(m.get("published"))),
            Integer.parseInt(String.valueOf(m.get("target")))});
      } else {
        String[] parts = String.valueOf(p).replace("/tcp", "").split(":");
        out.add(new int[] {Integer.parseInt(parts[parts.length - 2]), Integer.parseInt(parts[parts.length - 1])});
      }
    }
    return out;
  }

  /** The host address each port is published on: the short syntax's host_ip, the long one's host_ip, or "" (all). */
  private static List<String> hostIps(Map<String, Object> service) {
    List<String> out = new ArrayList<>();
    Object ports = service.get("ports");
    if (ports == null) return out;
    for (Object p : (List<?>) ports) {
      if (p instanceof Map<?, ?> m) {
        out.add(m.get("host_ip") == null ? "" : String.valueOf(m.get("host_ip")));
      } else {
        String[] parts = String.valueOf(p).replace("/tcp", "").split(":");
        out.add(parts.length >= 3 ? parts[parts.length - 3] : "");
      }
    }
    return out;
  }

  record Mount(String source, String target, boolean bind) {
  }

  private static List<Mount> mounts(Map<String, Object> service) {
    List<Mount> out = new ArrayList<>();
    Object volumes = service.get("volumes");
    if (volumes == null) return out;
    for (Object v : (List<?>) volumes) {
      String source;
      String target;
      if (v instanceof Map<?, ?> m) {
        source = String.valueOf(m.get("source"));
        target = String.valueOf(m.get("target"));
      } else {
        String[] parts = String.valueOf(v).split(":");
        source = parts[0];
        target = parts[1];
      }
      out.add(new Mount(source, target, source.startsWith(".") || source.startsWith("/")));
    }
    return out;
  }

  /** Where a path inside a service's container comes from in this repository, through its bind mounts. */
  private static Path hostPath(String service, String containerPath) {
    for (Mount m : mounts(service(service))) {
      if (!m.bind()) continue;
      if (containerPath.equals(m.target()) || containerPath.startsWith(m.target() + "/")) {
        String rest = containerPath.substring(m.target().length()).replaceFirst("^/", "");
        Path p = Ops.repo().resolve(m.source()).normalize();
        return rest.isEmpty() ? p : p.resolve(rest);
      }
    }
    fail("service " + service + " mounts nothing at " + containerPath);
    return null;
  }

  private static String flag(Map<String, Object> service, String name) {
    for (String a : strings(service.get("command"))) {
      if (a.startsWith(name + "=")) return a.substring(name.length() + 1);
    }
    fail("no " + name + " in " + service.get("command"));
    return null;
  }

  @Test
  void servicesPublishTheirPorts() {
    for (Map.Entry<String, Integer> e : PORTS.entrySet()) {
      List<int[]> ports = ports(service(e.getKey()));
      assertTrue(ports.stream().anyMatch(p -> p[0] == e.getValue() && p[1] == e.getValue()),
          e.getKey() + " should publish " + e.getValue() + ":" + e.getValue());
    }
  }

  @Test
  void everyPortIsPublishedOnLoopbackOnly() {
    // Prometheus' lifecycle API, Alertmanager and Grafana's admin/admin have no real authentication
    for (String name : PORTS.keySet()) {
      List<String> ips = hostIps(service(name));
      assertTrue(!ips.isEmpty() && ips.stream().allMatch("127.0.0.1"::equals), name + " publishes on " + ips);
    }
  }

  @Test
  void theServerTakesItsTokenFromTheEnvironmentAndRequiresIt() {
    Object token = Ops.map(service("losswatch").get("environment")).get("LOSSWATCH_TOKEN");
    assertTrue(String.valueOf(token).matches("\\$\\{LOSSWATCH_TOKEN:\\?[^}$]+}"),
        "LOSSWATCH_TOKEN comes from the environment, required (${LOSSWATCH_TOKEN:?message}): " + token);
  }

  @Test
  void servicesAreWhereTheConfigsLookForThem() {
    Map<String, Object> prom = Ops.yaml(Ops.repo().resolve("dashboards/prometheus/prometheus.yml"));
    List<Map<String, Object>> jobs = Ops.list(prom.get("scrape_configs"));
    Map<String, Object> job = jobs.stream().filter(j -> "losswatch".equals(j.get("job_name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no scrape job losswatch"));
    assertEquals("5s", job.get("scrape_interval"));
    List<String> targets = new ArrayList<>();
    for (Map<String, Object> sc : Ops.list(job.get("static_configs"))) targets.addAll(strings(sc.get("targets")));
    assertEquals(List.of("losswatch:8080"), targets);
    List<String> am = new ArrayList<>();
    for (Map<String, Object> a : Ops.list(Ops.map(prom.get("alerting")).get("alertmanagers"))) {
      for (Map<String, Object> sc : Ops.list(a.get("static_configs"))) am.addAll(strings(sc.get("targets")));
    }
    assertEquals(List.of("alertmanager:9093"), am);
    assertEquals(List.of("alerts.yml"), prom.get("rule_files"));

    Map<String, Object> ds = Ops.yaml(Ops.repo().resolve("dashboards/grafana/provisioning/datasources/prometheus.yml"));
    for (Map<String, Object> d : Ops.list(ds.get("datasources"))) {
      Matcher m = Pattern.compile("http://([a-z0-9-]+):(\\d+)").matcher(String.valueOf(d.get("url")));
      assertTrue(m.matches(), "data source url " + d.get("url"));
      String host = m.group(1);
      int port = Integer.parseInt(m.group(2));
      assertTrue(ports(service(host)).stream().anyMatch(p -> p[1] == port), host + " does not listen on " + port);
    }
    // the server listens where it is scraped, on every interface of its container
    Map<String, Object> lw = service("losswatch");
    List<String> command = strings(lw.get("command"));
    assertTrue(String.join(" ", command).contains("--port 8080"), "losswatch's command: " + command);
    assertTrue(String.join(" ", command).contains("--host 0.0.0.0"), "losswatch's command: " + command);
    assertTrue(ports(lw).stream().anyMatch(p -> p[1] == 8080), "losswatch's ports");
  }

  @Test
  void theServerAcceptsItsCommandLineGivenAToken() {
    String[] command = strings(service("losswatch").get("command")).toArray(String[]::new);
    ServerConfig c = ServerConfig.parse(command, "from-the-environment");   // throws on an unknown option
    assertEquals(8080, c.port());
    assertEquals("0.0.0.0", c.host());
    assertFalse(c.insecure(), "no --insecure");
    assertThrows(SpecException.class, () -> ServerConfig.parse(command, null), "exposed: refused without a token");
    // Prometheus scrapes losswatch:8080: that Host must pass the server's Host check
    Map<String, Object> prom = Ops.yaml(Ops.repo().resolve("dashboards/prometheus/prometheus.yml"));
    for (Map<String, Object> job : Ops.list(prom.get("scrape_configs"))) {
      if (!"losswatch".equals(job.get("job_name"))) continue;
      for (Map<String, Object> sc : Ops.list(job.get("static_configs"))) {
        for (String target : strings(sc.get("targets"))) {
          String host = target.substring(0, target.lastIndexOf(':'));
          assertTrue(c.allowedHosts().contains(host), host + " is not an --allow-host of " + List.of(command));
        }
      }
    }

    Matcher cmd = Pattern.compile("(?m)^CMD \\[(.*)]$").matcher(Ops.read(Ops.repo().resolve("Dockerfile")));
    assertTrue(cmd.find(), "the Dockerfile has no CMD [...]");
    List<String> args = new ArrayList<>();
    Matcher a = Pattern.compile("\"([^\"]*)\"").matcher(cmd.group(1));
    while (a.find()) args.add(a.group(1));
    ServerConfig d = ServerConfig.parse(args.toArray(String[]::new), "from-the-environment");
    assertEquals(8080, d.port());
    assertEquals("0.0.0.0", d.host());
    assertFalse(d.insecure(), "no --insecure in the Dockerfile");
    assertThrows(SpecException.class, () -> ServerConfig.parse(args.toArray(String[]::new), null),
        "the image refuses to start without LOSSWATCH_TOKEN");
    assertFalse(Ops.read(Ops.repo().resolve("Dockerfile")).contains("--insecure"));
    assertFalse(Ops.read(Ops.repo().resolve("docker-compose.yml")).contains("--insecure"));
  }

  @Test
  void everyMountedFileExists() {
    Map<String, Object> services = Ops.map(compose().get("services"));
    Map<String, Object> named = Ops.map(compose().get("volumes"));
    for (String s : services.keySet()) {
      for (Mount m : mounts(service(s))) {
        if (m.bind()) {
          assertTrue(Files.exists(Ops.repo().resolve(m.source())), s + " mounts " + m.source() + ", which is missing");
        } else {
          assertTrue(named.containsKey(m.source()), s + " mounts the volume " + m.source() + ", not declared");
        }
      }
    }
  }

  @Test
  void containersFindTheirConfigs() {
    Map<String, Object> prometheus = service("prometheus");
    Path config = hostPath("prometheus", flag(prometheus, "--config.file"));
    assertEquals(Ops.repo().resolve("dashboards/prometheus/prometheus.yml"), config);
    assertTrue(Files.isRegularFile(config.resolveSibling("alerts.yml")), "alerts.yml next to prometheus.yml");

    Path am = hostPath("alertmanager", flag(service("alertmanager"), "--config.file"));
    assertEquals(Ops.repo().resolve("dashboards/alertmanager/alertmanager.yml"), am);

    // Grafana: provisioning where it reads it, dashboards where the provider looks
    Path ds = hostPath("grafana", "/etc/grafana/provisioning/datasources");
    assertTrue(Files.isRegularFile(ds.resolve("prometheus.yml")), ds + ": no prometheus.yml");
    Path providers = hostPath("grafana", "/etc/grafana/provisioning/dashboards");
    Map<String, Object> provider = Ops.list(Ops.yaml(providers.resolve("losswatch.yml")).get("providers")).get(0);
    Path dashboards = hostPath("grafana", (String) Ops.map(provider.get("options")).get("path"));
    assertEquals(Ops.repo().resolve("dashboards/grafana/dashboards"), dashboards);
    Object home = Ops.map(service("grafana").get("environment")).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH");
    if (home != null) assertTrue(Files.isRegularFile(hostPath("grafana", (String) home)), "home dashboard " + home);
    Map<String, Object> env = Ops.map(service("grafana").get("environment"));
    assertTrue("true".equals(String.valueOf(env.get("GF_AUTH_ANONYMOUS_ENABLED")))
        || env.containsKey("GF_SECURITY_ADMIN_PASSWORD"), "Grafana: anonymous access or an admin password");
  }

  @Test
  void dockerfileBuildsTheJar() {
    Path dockerfile = Ops.repo().resolve("Dockerfile");
    assertTrue(Files.isRegularFile(dockerfile), "no Dockerfile");
    String text = Ops.read(dockerfile);
    Object build = service("losswatch").get("build");
    String context = build instanceof Map<?, ?> m ? String.valueOf(m.get("context")) : String.valueOf(build);
    assertEquals(Ops.repo(), Ops.repo().resolve(context).normalize(), "losswatch is built from the repository");
    assertTrue(text.contains("FROM maven:3-eclipse-temurin-17 AS build"), "build stage");
    assertTrue(text.contains("mvn -B -q package -DskipTests"), "the build command");
    assertTrue(text.contains("FROM eclipse-temurin:17-jre"), "run stage");
    assertTrue(text.contains("EXPOSE 8080"), "EXPOSE 8080");
    // the jar the shade plugin writes is the one copied
    assertTrue(Ops.read(Ops.repo().resolve("pom.xml")).contains("<outputFile>${project.build.directory}/losswatch.jar</outputFile>"));
    assertTrue(text.contains("target/losswatch.jar"), "copies target/losswatch.jar");
    Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(\\S+) ").matcher(text);
    int copies = 0;
    while (copy.find()) {
      copies++;
      assertTrue(Files.exists(Ops.repo().resolve(copy.group(1))), "the Dockerfile copies " + copy.group(1) + ", missing");
    }
    assertTrue(copies >= 2, "the Dockerfile copies pom.xml and src");
  }
}
