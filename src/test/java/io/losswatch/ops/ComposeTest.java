package io.losswatch.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.losswatch.cli.ServeOptions;
import io.losswatch.core.config.SpecException;
import io.losswatch.server.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml and the Dockerfile, without Docker: the services the configs name exist and publish the
 * ports they are reached on, every file mounted exists, every path a service is told about inside its container
 * lands on a file of this repository, and the server accepts the command line it is given. The profile "cluster"
 * too: three nodes of one cluster behind the same Prometheus (reading prometheus-cluster.yml), Alertmanager and
 * Grafana.
 */
class ComposeTest {
  private static final Map<String, Integer> PORTS = Map.of("losswatch", 8080, "prometheus", 9090,
      "alertmanager", 9093, "grafana", 3000);
  /** The cluster profile's nodes, and the host port each is published on. */
  private static final Map<String, Integer> NODES = Map.of("losswatch-1", 8081, "losswatch-2", 8082,
      "losswatch-3", 8083);
  private static final String CLUSTER_CONFIG = "prometheus-cluster.yml";
  /** The compose secret the cluster's nodes share. */
  private static final String SECRET = "losswatch-cluster-secret";
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)(?:(:?[-?])([^}]*))?}");

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
    return flag(service, name, Map.of());
  }

  /** The flag's value, compose's variables filled in from {@code env} (unset ones take their defaults). */
  private static String flag(Map<String, Object> service, String name, Map<String, String> env) {
    for (String a : strings(service.get("command"))) {
      if (a.startsWith(name + "=")) return interpolate(a.substring(name.length() + 1), env);
    }
    fail("no " + name + " in " + service.get("command"));
    return null;
  }

  /** Compose's ${VAR}, ${VAR:-default}, ${VAR-default} and ${VAR:?error}, from {@code env}. */
  static String interpolate(String text, Map<String, String> env) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = env.get(m.group(1));
      String op = m.group(2);
      boolean unset = value == null || (value.isEmpty() && op != null && op.startsWith(":"));
      if (unset && op != null && op.endsWith("?")) fail("${" + m.group(1) + "} is required: " + m.group(3));
      if (unset) value = op != null && op.endsWith("-") ? m.group(3) : "";
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    return m.appendTail(out).toString();
  }

  private static List<String> profiles(Map<String, Object> service) {
    return strings(service.get("profiles"));
  }

  /** The targets of Prometheus' job "losswatch" in the given config. */
  private static List<String> losswatchTargets(Map<String, Object> prom) {
    List<Map<String, Object>> jobs = Ops.list(prom.get("scrape_configs"));
    Map<String, Object> job = jobs.stream().filter(j -> "losswatch".equals(j.get("job_name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no scrape job losswatch"));
    List<String> targets = new ArrayList<>();
    for (Map<String, Object> sc : Ops.list(job.get("static_configs"))) targets.addAll(strings(sc.get("targets")));
    return targets;
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
    // every other service too, the cluster's nodes included
    for (String name : Ops.map(compose().get("services")).keySet()) {
      List<String> ips = hostIps(service(name));
      assertTrue(ips.stream().allMatch("127.0.0.1"::equals), name + " publishes on " + ips);
    }
  }

  @Test
  void theServerTakesItsTokenFromTheEnvironmentAndRequiresIt() {
    Object token = Ops.map(service("losswatch").get("environment")).get("LOSSWATCH_TOKEN");
    assertTrue(String.valueOf(token).matches("\\$\\{LOSSWATCH_TOKEN:\\?[^}$]+}"),
        "LOSSWATCH_TOKEN comes from the environment, required (${LOSSWATCH_TOKEN:?message}): " + token);
  }

  /**
   * With --token, /metrics needs it too: every Prometheus config scrapes the job losswatch with a bearer token read
   * from the file compose mounts from the secret losswatch_token, which is the servers' own LOSSWATCH_TOKEN.
   */
  @Test
  void prometheusScrapesWithTheServersToken() {
    Map<String, Object> secrets = Ops.map(compose().get("secrets"));
    Map<String, Object> secret = Ops.map(secrets.get("losswatch_token"));
    assertEquals("LOSSWATCH_TOKEN", secret.get("environment"), "the secret is the servers' LOSSWATCH_TOKEN: " + secret);
    assertTrue(strings(service("prometheus").get("secrets")).contains("losswatch_token"),
        "Prometheus gets the secret, at /run/secrets/losswatch_token");
    for (String config : List.of("prometheus.yml", CLUSTER_CONFIG)) {
      Map<String, Object> prom = Ops.yaml(Ops.repo().resolve("dashboards/prometheus/" + config));
      Map<String, Object> job = Ops.list(prom.get("scrape_configs")).stream()
          .filter(j -> "losswatch".equals(j.get("job_name"))).findFirst().orElseThrow();
      Map<String, Object> auth = Ops.map(job.get("authorization"));
      assertEquals("/run/secrets/losswatch_token", auth.get("credentials_file"), config + ": " + job);
      assertTrue(auth.get("type") == null || "Bearer".equals(auth.get("type")), config + ": a bearer token");
    }
    // every server of compose takes that variable
    for (String name : Ops.map(compose().get("services")).keySet()) {
      if (!name.startsWith("losswatch")) continue;
      assertTrue(String.valueOf(Ops.map(service(name).get("environment")).get("LOSSWATCH_TOKEN"))
          .startsWith("${LOSSWATCH_TOKEN:?"), name);
    }
  }

  @Test
  void servicesAreWhereTheConfigsLookForThem() {
    Map<String, Object> prom = Ops.yaml(Ops.repo().resolve("dashboards/prometheus/prometheus.yml"));
    List<Map<String, Object>> jobs = Ops.list(prom.get("scrape_configs"));
    Map<String, Object> job = jobs.stream().filter(j -> "losswatch".equals(j.get("job_name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no scrape job losswatch"));
    assertEquals("5s", job.get("scrape_interval"));
    // one node: no target that is not there (LosswatchTargetDown would fire for it)
    assertEquals(List.of("losswatch:8080"), losswatchTargets(prom));
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
    ServerConfig c = ServeOptions.parse(command, "from-the-environment");   // throws on an unknown option
    assertEquals(8080, c.port());
    assertEquals("0.0.0.0", c.host());
    assertFalse(c.insecure(), "no --insecure");
    assertThrows(SpecException.class, () -> ServeOptions.parse(command, null), "exposed: refused without a token");
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
    ServerConfig d = ServeOptions.parse(args.toArray(String[]::new), "from-the-environment");
    assertEquals(8080, d.port());
    assertEquals("0.0.0.0", d.host());
    assertFalse(d.insecure(), "no --insecure in the Dockerfile");
    assertThrows(SpecException.class, () -> ServeOptions.parse(args.toArray(String[]::new), null),
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
    // by default (docker compose up: one node) prometheus.yml; the cluster's with LOSSWATCH_PROMETHEUS_CONFIG
    Path config = hostPath("prometheus", flag(prometheus, "--config.file"));
    assertEquals(Ops.repo().resolve("dashboards/prometheus/prometheus.yml"), config);
    assertTrue(Files.isRegularFile(config.resolveSibling("alerts.yml")), "alerts.yml next to prometheus.yml");
    Path cluster = hostPath("prometheus", flag(prometheus, "--config.file",
        Map.of("LOSSWATCH_PROMETHEUS_CONFIG", CLUSTER_CONFIG)));
    assertEquals(Ops.repo().resolve("dashboards/prometheus/" + CLUSTER_CONFIG), cluster);
    assertTrue(Files.isRegularFile(cluster), cluster + " is missing");

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
  void theClusterProfileHasThreeNodesBehindTheSameMonitoring() {
    Map<String, Object> services = Ops.map(compose().get("services"));
    Set<String> inProfile = new HashSet<>();
    for (String name : services.keySet()) {
      if (profiles(service(name)).contains("cluster")) inProfile.add(name);
    }
    assertEquals(NODES.keySet(), inProfile, "the services of the profile cluster");
    // one Prometheus, Alertmanager and Grafana, and the single node, in every profile
    for (String name : PORTS.keySet()) {
      assertTrue(profiles(service(name)).isEmpty(), name + " should run with or without the cluster profile");
    }
    Map<String, Object> single = service("losswatch");
    Object token = Ops.map(single.get("environment")).get("LOSSWATCH_TOKEN");
    Set<String> dataVolumes = new HashSet<>();
    for (Map.Entry<String, Integer> e : NODES.entrySet()) {
      String name = e.getKey();
      Map<String, Object> node = service(name);
      assertEquals(single.get("image"), node.get("image"), name + " runs the losswatch service's image");
      Object build = node.get("build");
      if (build != null) {
        String context = build instanceof Map<?, ?> m ? String.valueOf(m.get("context")) : String.valueOf(build);
        assertEquals(Ops.repo(), Ops.repo().resolve(context).normalize(), name + " is built from the repository");
      }
      assertEquals(token, Ops.map(node.get("environment")).get("LOSSWATCH_TOKEN"), name + ": the same token");
      // the page, REST, WebSocket and /metrics on 8080 inside, published on 127.0.0.1:808N
      assertTrue(ports(node).stream().anyMatch(p -> p[0] == e.getValue() && p[1] == 8080),
          name + " should publish " + e.getValue() + ":8080");
      // the data folder on the cluster's shared named volume
      List<Mount> data = mounts(node).stream().filter(m -> m.target().equals("/data")).toList();
      assertEquals(1, data.size(), name + " mounts one volume at /data");
      assertFalse(data.get(0).bind(), name + ": /data on a named volume");
      dataVolumes.add(data.get(0).source());
    }
    assertEquals(1, dataVolumes.size(), "the nodes share one data volume: " + dataVolumes);
    assertFalse(mounts(single).stream().anyMatch(m -> dataVolumes.contains(m.source())),
        "the single node keeps its own data volume, apart from the cluster's");
  }

  /** The value after {@code flag} in a command line, or null. */
  private static String value(String[] command, String flag) {
    for (int i = 0; i + 1 < command.length; i++) if (command[i].equals(flag)) return command[i + 1];
    return null;
  }

  /** The command with its cluster secret file (inside the container) replaced by {@code file} on this machine. */
  private static String[] withSecret(String[] command, Path file) {
    String[] out = command.clone();
    for (int i = 0; i + 1 < out.length; i++) if (out[i].equals("--cluster-secret-file")) out[i + 1] = file.toString();
    return out;
  }

  /** Issue 19.19: the nodes read one secret from a file compose hands them, never from a command line. */
  @Test
  void theNodesReadTheClustersSecretFromOneFile() {
    Map<String, Object> secret = Ops.map(Ops.map(compose().get("secrets")).get(SECRET));
    assertEquals("./cluster.secret", interpolate(String.valueOf(secret.get("file")), Map.of()),
        "the secret's file, by default beside docker-compose.yml");
    assertEquals("/elsewhere/s", interpolate(String.valueOf(secret.get("file")),
        Map.of("LOSSWATCH_CLUSTER_SECRET_FILE", "/elsewhere/s")), "or where LOSSWATCH_CLUSTER_SECRET_FILE says");
    assertTrue(Ops.read(Ops.repo().resolve(".gitignore")).lines().anyMatch("cluster.secret"::equals),
        "cluster.secret is never committed");
    for (String name : NODES.keySet()) {
      Map<String, Object> node = service(name);
      assertEquals(List.of(SECRET), strings(node.get("secrets")), name + " is handed the secret");
      String[] command = strings(node.get("command")).toArray(String[]::new);
      assertEquals("/run/secrets/" + SECRET, value(command, "--cluster-secret-file"), name + " reads it where compose puts it");
      assertFalse(Ops.map(node.get("environment")).containsKey("LOSSWATCH_CLUSTER_SECRET"), name + ": not in its environment");
    }
    assertTrue(strings(service("losswatch").get("secrets")).isEmpty(), "the single node has no cluster secret");
  }

  @Test
  void eachNodeJoinsTheOthers(@TempDir Path dir) throws Exception {
    Path secretFile = dir.resolve("cluster.secret");
    Files.writeString(secretFile, "a-cluster-secret-of-at-least-32-characters\n");
    Set<String> members = new HashSet<>();
    for (String name : NODES.keySet()) members.add(name + ":5701");
    for (String name : NODES.keySet()) {
      String[] given = strings(service(name).get("command")).toArray(String[]::new);
      SpecException noSecret = assertThrows(SpecException.class, () -> ServeOptions.parse(given, "from-the-environment"));
      assertTrue(noSecret.getMessage().startsWith("--cluster-secret-file: cannot read /run/secrets/" + SECRET),
          name + " without its secret file: " + noSecret.getMessage());
      String[] command = withSecret(given, secretFile);
      ServerConfig c = ServeOptions.parse(command, "from-the-environment");   // throws on an unknown option
      assertEquals(8080, c.port(), name);
      assertEquals("0.0.0.0", c.host(), name);
      assertEquals(Path.of("/data"), c.dataDir(), name);
      assertFalse(c.insecure(), name + ": no --insecure");
      assertThrows(SpecException.class, () -> ServeOptions.parse(command, null), name + ": refused without a token");
      assertTrue(c.cluster() != null, name + " runs with --cluster");
      assertEquals("losswatch", c.cluster().name(), name + "'s --cluster-name");
      // the address the others reach it by: its service name
      assertEquals(name, c.cluster().host(), name + "'s --cluster-host");
      assertEquals(5701, c.cluster().port(), name + "'s --cluster-port");
      assertEquals(name, c.cluster().node(), name + "'s --node-name");
      assertEquals(members, new HashSet<>(c.cluster().members()), name + "'s --cluster-members list all three");
      assertEquals(3, c.cluster().members().size(), name + "'s --cluster-members: " + c.cluster().members());
      // Prometheus scrapes name:8080: that Host must pass the node's Host check
      assertTrue(c.allowedHosts().contains(name), name + " is not an --allow-host of " + List.of(command));
    }
  }

  @Test
  void theClustersPrometheusScrapesEveryNode() {
    Path dir = Ops.repo().resolve("dashboards/prometheus");
    Map<String, Object> one = Ops.yaml(dir.resolve("prometheus.yml"));
    Map<String, Object> cluster = Ops.yaml(dir.resolve(CLUSTER_CONFIG));
    Set<String> expected = new HashSet<>();
    for (String name : NODES.keySet()) expected.add(name + ":8080");
    List<String> targets = losswatchTargets(cluster);
    assertEquals(expected, new HashSet<>(targets), CLUSTER_CONFIG + " scrapes every node, in the job losswatch");
    assertEquals(targets.size(), new HashSet<>(targets).size(), "a target twice: " + targets);
    // the rest as prometheus.yml: the same rules, Alertmanager, intervals
    Map<String, Object> a = new HashMap<>(one);
    Map<String, Object> b = new HashMap<>(cluster);
    a.remove("scrape_configs");
    b.remove("scrape_configs");
    assertEquals(a, b, CLUSTER_CONFIG + " differs from prometheus.yml beyond its targets");
    List<Map<String, Object>> jobsA = Ops.list(one.get("scrape_configs"));
    List<Map<String, Object>> jobsB = Ops.list(cluster.get("scrape_configs"));
    assertEquals(jobsA.size(), jobsB.size(), "the same scrape jobs");
    for (int i = 0; i < jobsA.size(); i++) {
      Map<String, Object> ja = new HashMap<>(jobsA.get(i));
      Map<String, Object> jb = new HashMap<>(jobsB.get(i));
      ja.remove("static_configs");
      jb.remove("static_configs");
      assertEquals(ja, jb, "scrape job " + ja.get("job_name"));
    }
    // the top of docker-compose.yml says how to try it
    String text = Ops.read(Ops.repo().resolve("docker-compose.yml"));
    assertTrue(text.contains("LOSSWATCH_PROMETHEUS_CONFIG=" + CLUSTER_CONFIG + " docker compose --profile cluster up"),
        "docker-compose.yml should say how to run the cluster");
  }

  @Test
  void interpolatesAsComposeDoes() {
    assertEquals("a/prometheus.yml", interpolate("a/${X:-prometheus.yml}", Map.of()));
    assertEquals("a/prometheus.yml", interpolate("a/${X:-prometheus.yml}", Map.of("X", "")));
    assertEquals("a/", interpolate("a/${X-prometheus.yml}", Map.of("X", "")));
    assertEquals("a/c.yml", interpolate("a/${X:-prometheus.yml}", Map.of("X", "c.yml")));
    assertEquals("t", interpolate("${T:?set it}", Map.of("T", "t")));
    assertThrows(AssertionError.class, () -> interpolate("${T:?set it}", Map.of()));
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
    // the jar the shade plugin writes (over the project's own, named by finalName) is the one copied
    assertTrue(Ops.read(Ops.repo().resolve("pom.xml")).contains("<finalName>losswatch</finalName>"));
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
