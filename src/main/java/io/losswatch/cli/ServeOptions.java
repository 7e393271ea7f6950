package io.losswatch.cli;

import io.losswatch.cluster.ClusterSecret;
import io.losswatch.cluster.ClusterSettings;
import io.losswatch.core.config.SpecException;
import io.losswatch.server.ServerConfig;
import io.losswatch.web.Hosts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * How the server runs: {@code serve}'s options, declared here once. The top command (serve is the default) and
 * {@code serve} both take them, {@code --help} prints them with their defaults, and {@code docs/operations.md}'s
 * table is held to them. Values are checked by {@link #config} rather than by picocli's converters, so that every
 * complaint names the option the same way: {@code --port: must be an integer in [0, 65535], got x}.
 */
public final class ServeOptions {
  /** The command these options are part of: it knows which of them were given. */
  @Spec(Spec.Target.MIXEE)
  CommandSpec command;
  @Option(names = "--host", paramLabel = "H", defaultValue = "127.0.0.1",
      description = "listen address; anything but localhost or a loopback address needs --token or --insecure")
  String host;
  @Option(names = "--port", paramLabel = "P", defaultValue = "8080", description = "port; 0 picks a free one")
  String port;
  @Option(names = "--demo", paramLabel = "gallery|none", defaultValue = "gallery",
      description = "start the demo runs, or none")
  String demo;
  @Option(names = "--data-dir", paramLabel = "D", defaultValue = "./losswatch-data",
      description = "where every run's history is kept")
  String dataDir;
  @Option(names = "--metrics-retention", paramLabel = "D", defaultValue = "10m",
      description = "how long an ended run's series stay in /metrics")
  String metricsRetention;
  @Option(names = "--max-metric-runs", paramLabel = "N", defaultValue = "500",
      description = "runs carried in /metrics at most")
  String maxMetricRuns;
  @Option(names = "--max-runs", paramLabel = "N", defaultValue = "1000", description = "runs kept at most")
  String maxRuns;
  @Option(names = "--max-steps", paramLabel = "N", defaultValue = "100000000",
      description = "steps one run may ask for")
  String maxSteps;
  @Option(names = "--max-clients", paramLabel = "N", defaultValue = "10000",
      description = "WebSocket connections at most")
  String maxClients;
  @Option(names = "--alert-webhook", paramLabel = "URL",
      description = "POST every alert there as JSON (retried, deduplicated)")
  String alertWebhook;
  @Option(names = "--stall-after", paramLabel = "D", defaultValue = "30s",
      description = "alert when a running run takes no step for this long, or for three of its steps' time if it"
          + " is paced slower")
  String stallAfter;
  @Option(names = "--token", paramLabel = "T",
      description = "reads and changes need \"Authorization: Bearer T\" (or set LOSSWATCH_TOKEN); /health and the"
          + " page's files stay open")
  String token;
  @Option(names = "--public-read", description = "with --token: reads need no token, changes still do")
  boolean publicRead;
  @Option(names = "--allow-origin", paramLabel = "O", showDefaultValue = Visibility.NEVER,
      description = "also accept changes and WebSocket handshakes from pages at origin O; repeatable")
  List<String> allowOrigin = new ArrayList<>();
  @Option(names = "--allow-host", paramLabel = "H", showDefaultValue = Visibility.NEVER,
      description = "also answer requests whose Host is H (the name a proxy or Prometheus reaches this server by);"
          + " repeatable")
  List<String> allowHost = new ArrayList<>();
  @Option(names = "--insecure", description = "allow a non-loopback --host without a token")
  boolean insecure;
  @Option(names = "--cluster", description = "join a cluster of nodes (Hazelcast, TCP-IP join); docs/cluster.md")
  boolean cluster;
  @Option(names = "--cluster-name", paramLabel = "N", defaultValue = "losswatch",
      description = "only nodes of this name join each other (never dev)")
  String clusterName;
  @Option(names = "--cluster-host", paramLabel = "H", defaultValue = "127.0.0.1",
      description = "this node's address for the other members")
  String clusterHost;
  @Option(names = "--cluster-port", paramLabel = "P", defaultValue = "5701", description = "its Hazelcast port, fixed")
  String clusterPort;
  @Option(names = "--cluster-members", paramLabel = "L", description = "host:port,... of the members")
  String clusterMembers;
  @Option(names = "--node-name", paramLabel = "N",
      description = "this node's name, kept with the runs it owns (default: cluster-host-cluster-port)")
  String nodeName;
  @Option(names = "--cluster-secret-file", paramLabel = "F",
      description = "required with --cluster: the file holding the secret every node shares (openssl rand -base64"
          + " 32); or LOSSWATCH_CLUSTER_SECRET")
  String clusterSecretFile;

  /**
   * The server's settings from a command line (the serve options above and nothing else), with the environment's
   * LOSSWATCH_TOKEN and LOSSWATCH_CLUSTER_SECRET: a bad option, or an exposed host without a token, is a
   * {@link SpecException} naming the option.
   */
  public static ServerConfig parse(String[] args, String envToken, String envClusterSecret) {
    Alone alone = new Alone();
    Cli.parse(alone, args);
    return alone.options.config(envToken, envClusterSecret);
  }

  /** These options as a command of their own, for {@link #parse}. */
  @Command(name = "serve")
  private static final class Alone {
    @Mixin
    ServeOptions options;
  }

  /** As {@link #parse(String[], String, String)}, without a LOSSWATCH_CLUSTER_SECRET. */
  public static ServerConfig parse(String[] args, String envToken) {
    return parse(args, envToken, null);
  }

  /** The settings these options say, checked; LOSSWATCH_TOKEN and LOSSWATCH_CLUSTER_SECRET where no option does. */
  public ServerConfig config(String envToken, String envClusterSecret) {
    ServerConfig.Builder b = ServerConfig.defaults().toBuilder()
        .host(host)
        .port(integer("--port", port, 0, 65535))
        .dataDir(Path.of(dataDir).normalize())
        .metricsRetentionMs(duration("--metrics-retention", metricsRetention))
        .maxMetricRuns(integer("--max-metric-runs", maxMetricRuns, 1, 1_000_000))
        .maxRuns(integer("--max-runs", maxRuns, 1, 1_000_000))
        .maxSteps(integer("--max-steps", maxSteps, 1, Integer.MAX_VALUE))
        .maxClients(integer("--max-clients", maxClients, 1, 1_000_000))
        .stallAfterMs(duration("--stall-after", stallAfter))
        .publicRead(publicRead)
        .insecure(insecure);
    if (!demo.equals("gallery") && !demo.equals("none")) {
      throw new SpecException("--demo", "must be gallery or none, got " + demo);
    }
    b.demo(demo.equals("gallery"));
    if (alertWebhook != null) {
      if (!alertWebhook.startsWith("http://") && !alertWebhook.startsWith("https://")) {
        throw new SpecException("--alert-webhook", "must be an http:// or https:// URL, got " + alertWebhook);
      }
      b.alertWebhook(alertWebhook);
    }
    if (token != null) {
      // an empty token could never be matched: it would lock every change out, or look like protection
      if (token.isBlank()) throw new SpecException("--token", "must not be empty");
      b.token(token);
    } else if (envToken != null && !envToken.isBlank()) {
      b.token(envToken);
    }
    allowOrigin.forEach(b::allowOrigin);
    for (String h : allowHost) {
      if (!Hosts.valid(h)) {
        throw new SpecException("--allow-host", "must be a host name or an IP address, without a port, got " + h);
      }
      b.allowHost(Hosts.normal(h));
    }
    b.cluster(cluster(envClusterSecret));
    ServerConfig c = b.build();
    if (!c.loopback() && c.token() == null && !c.insecure()) {
      throw new SpecException("--host", c.host() + " is reachable from other machines: set --token (or LOSSWATCH_TOKEN)"
          + " so only you can read and change runs, or pass --insecure");
    }
    return c;
  }

  /** The cluster settings with --cluster, else null (and then no cluster option may be given). */
  private ClusterSettings cluster(String envClusterSecret) {
    if (!cluster) {
      List<String> given = Cli.given(command).stream()
          .filter(n -> n.startsWith("--cluster-") || n.equals("--node-name")).toList();
      if (!given.isEmpty()) throw new SpecException(given.get(given.size() - 1), "needs --cluster");
      return null;
    }
    int p = integer("--cluster-port", clusterPort, 1, 65535);
    List<String> members = clusterMembers == null || clusterMembers.isBlank() ? List.of()
        : List.of(clusterMembers.trim().split("\\s*,\\s*"));
    // a file wins over the environment; never an option with the secret itself, which any local user's ps shows
    ClusterSecret secret = clusterSecretFile != null ? ClusterSecret.read(Path.of(clusterSecretFile), "--cluster-secret-file")
        : envClusterSecret != null && !envClusterSecret.isBlank()
            ? ClusterSecret.of(envClusterSecret, "LOSSWATCH_CLUSTER_SECRET") : null;
    return new ClusterSettings(clusterName, clusterHost, p, members,
        nodeName != null ? nodeName : clusterHost.replace(':', '_') + "-" + p, secret).check();
  }

  private static int integer(String name, String value, int min, int max) {
    try {
      int v = Integer.parseInt(value);
      if (v >= min && v <= max) return v;
    } catch (NumberFormatException ignored) {
      // falls through to the message
    }
    throw new SpecException(name, "must be an integer in [" + min + ", " + max + "], got " + value);
  }

  /** A duration such as 500ms, 30s, 10m, 1h (a bare number is seconds). */
  static long duration(String name, String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    long unit = 1000;
    if (v.endsWith("ms")) {
      unit = 1;
      v = v.substring(0, v.length() - 2);
    } else if (v.endsWith("s")) {
      v = v.substring(0, v.length() - 1);
    } else if (v.endsWith("m")) {
      unit = 60_000;
      v = v.substring(0, v.length() - 1);
    } else if (v.endsWith("h")) {
      unit = 3_600_000;
      v = v.substring(0, v.length() - 1);
    }
    try {
      double d = Double.parseDouble(v);
      if (d > 0 && Double.isFinite(d)) return Math.max(1, Math.round(d * unit));
    } catch (NumberFormatException ignored) {
      // falls through to the message
    }
    throw new SpecException(name, "must be a positive duration such as 30s, 10m or 1h, got " + value);
  }
}
