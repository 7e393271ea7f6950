package io.losswatch.server;

import io.losswatch.cluster.ClusterSecret;
import io.losswatch.cluster.ClusterSettings;
import io.losswatch.core.config.SpecException;
import io.losswatch.web.Hosts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the server runs. Command-line flags, with defaults:
 * <pre>
 *   --host H                 127.0.0.1
 *   --port P                 8080 (0 picks a free one)
 *   --demo gallery|none      gallery
 *   --data-dir D             ./losswatch-data: every run's history
 *   --metrics-retention D    10m: how long an ended run's series stay in /metrics
 *   --max-metric-runs N      500: runs carried in /metrics at most
 *   --max-runs N             1000: runs kept at most
 *   --max-steps N            100000000: steps one run may ask for
 *   --max-clients N          10000: WebSocket connections at most
 *   --alert-webhook URL      none: POST every alert there as JSON
 *   --stall-after D          30s: a running run with no step for this long raises a "stalled" alert
 *   --token T                none (or LOSSWATCH_TOKEN): a bearer token every change must carry
 *   --allow-origin O         also accept changes and WebSocket handshakes from pages at this origin (repeatable)
 *   --allow-host H           also answer requests whose Host is H (repeatable): a name this server is reached by
 *   --insecure               allow a non-loopback --host without a token
 *   --cluster                join a cluster of nodes (Hazelcast, TCP-IP); without it no Hazelcast starts
 *   --cluster-name N         losswatch: only nodes of this name join each other (never "dev")
 *   --cluster-host H         127.0.0.1: this node's address for the other members
 *   --cluster-port P         5701: Hazelcast's port on it (the event bus picks a free one)
 *   --cluster-members L      host:port,… of the other members (TCP-IP join)
 *   --node-name N            cluster-host-cluster-port: this node's name, kept by the runs it owns on disk
 *   --cluster-secret-file F  required with --cluster (or LOSSWATCH_CLUSTER_SECRET): the secret every node holds
 * </pre>
 */
public record ServerConfig(String host, int port, boolean demo, Path dataDir, long metricsRetentionMs,
    int maxMetricRuns, int maxRuns, int maxSteps, int maxClients, String alertWebhook, long stallAfterMs,
    String token, List<String> allowedOrigins, List<String> allowedHosts, boolean insecure, ClusterSettings cluster) {

  public static ServerConfig defaults() {
    return new ServerConfig("127.0.0.1", 8080, true, Path.of("losswatch-data"), 600_000, 500, 1000, 100_000_000,
        10_000, null, 30_000, null, List.of(), List.of(), false, null);
  }

  /** What tests start: a free port, no demo runs, a fresh data folder of its own. */
  public ServerConfig forTest(int port) {
    try {
      return toBuilder().port(port).demo(false).dataDir(Files.createTempDirectory("losswatch-test")).build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public ServerConfig withDataDir(Path dir) {
    return toBuilder().dataDir(dir).build();
  }

  public ServerConfig withMetricsRetentionMs(long ms) {
    return toBuilder().metricsRetentionMs(ms).build();
  }

  public ServerConfig withAlertWebhook(String url) {
    return toBuilder().alertWebhook(url).build();
  }

  public ServerConfig withToken(String t) {
    return toBuilder().token(t).build();
  }

  public ServerConfig withLimits(int maxRuns, int maxSteps, int maxClients) {
    return toBuilder().maxRuns(maxRuns).maxSteps(maxSteps).maxClients(maxClients).build();
  }

  /**
   * Whether the host is reachable from this machine only: exactly {@code localhost} or a loopback IP literal
   * (127.0.0.0/8, ::1), judged from the text, never by resolving it.
   */
  public boolean loopback() {
    return Hosts.loopback(host);
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Parses the flags above; a bad one, or an exposed host without a token, is a {@link SpecException}. */
  public static ServerConfig parse(String[] args, String envToken) {
    return parse(args, envToken, null);
  }

  /** As {@link #parse(String[], String)}, with LOSSWATCH_CLUSTER_SECRET's value (used when no file is named). */
  public static ServerConfig parse(String[] args, String envToken, String envClusterSecret) {
    Builder b = defaults().toBuilder();
    if (envToken != null && !envToken.isBlank()) b.token(envToken);
    boolean clustered = false;
    String clusterFlag = null;   // a cluster flag given without --cluster
    String clusterName = "losswatch";
    String clusterHost = "127.0.0.1";
    int clusterPort = 5701;
    List<String> members = List.of();
    String node = null;
    Path secretFile = null;
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      if (name.equals("--insecure")) {
        b.insecure(true);
        continue;
      }
      if (name.equals("--cluster")) {
        clustered = true;
        continue;
      }
      String value;
      int eq = name.indexOf('=');
      if (eq > 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new SpecException(name, "needs a value");
      }
      switch (name) {
        case "--host" -> b.host(value);
        case "--port" -> b.port(integer(name, value, 0, 65535));
        case "--demo" -> {
          if (!value.equals("gallery") && !value.equals("none")) {
            throw new SpecException(name, "must be gallery or none, got " + value);
          }
          b.demo(value.equals("gallery"));
        }
        case "--data-dir" -> b.dataDir(Path.of(value));
        case "--metrics-retention" -> b.metricsRetentionMs(duration(name, value));
        case "--max-metric-runs" -> b.maxMetricRuns(integer(name, value, 1, 1_000_000));
        case "--max-runs" -> b.maxRuns(integer(name, value, 1, 1_000_000));
        case "--max-steps" -> b.maxSteps(integer(name, value, 1, Integer.MAX_VALUE));
        case "--max-clients" -> b.maxClients(integer(name, value, 1, 1_000_000));
        case "--alert-webhook" -> {
          if (!value.startsWith("http://") && !value.startsWith("https://")) {
            throw new SpecException(name, "must be an http:// or https:// URL, got " + value);
          }
          b.alertWebhook(value);
        }
        case "--stall-after" -> b.stallAfterMs(duration(name, value));
        case "--token" -> {
          // an empty token could never be matched: it would lock every change out, or look like protection
          if (value.isBlank()) throw new SpecException(name, "must not be empty");
          b.token(value);
        }
        case "--allow-origin" -> b.allowOrigin(value);
        case "--allow-host" -> {
          if (!Hosts.valid(value)) {
            throw new SpecException(name, "must be a host name or an IP address, without a port, got " + value);
          }
          b.allowHost(Hosts.normal(value));
        }
        case "--cluster-name" -> clusterName = value;
        case "--cluster-host" -> clusterHost = value;
        case "--cluster-port" -> clusterPort = integer(name, value, 1, 65535);
        case "--cluster-members" -> members = value.isBlank() ? List.of() : List.of(value.trim().split("\\s*,\\s*"));
        case "--node-name" -> node = value;
        case "--cluster-secret-file" -> secretFile = Path.of(value);
        default -> throw new SpecException(name, "unknown option");
      }
      if (name.startsWith("--cluster-") || name.equals("--node-name")) clusterFlag = name;
    }
    if (clusterFlag != null && !clustered) throw new SpecException(clusterFlag, "needs --cluster");
    if (clustered) {
      // a file wins over the environment; never a flag with the secret itself, which any local user's ps shows
      ClusterSecret secret = secretFile != null ? ClusterSecret.read(secretFile, "--cluster-secret-file")
          : envClusterSecret != null && !envClusterSecret.isBlank()
              ? ClusterSecret.of(envClusterSecret, "LOSSWATCH_CLUSTER_SECRET") : null;
      b.cluster(new ClusterSettings(clusterName, clusterHost, clusterPort, members,
          node != null ? node : clusterHost.replace(':', '_') + "-" + clusterPort, secret).check());
    }
    ServerConfig c = b.build();
    if (!c.loopback() && c.token == null && !c.insecure) {
      throw new SpecException("--host", c.host + " is reachable from other machines: set --token (or LOSSWATCH_TOKEN)"
          + " so only you can change runs, or pass --insecure");
    }
    return c;
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

  /** A mutable copy, for changing a few fields. */
  public static final class Builder {
    private String host;
    private int port;
    private boolean demo;
    private Path dataDir;
    private long metricsRetentionMs;
    private int maxMetricRuns;
    private int maxRuns;
    private int maxSteps;
    private int maxClients;
    private String alertWebhook;
    private long stallAfterMs;
    private String token;
    private final List<String> allowedOrigins;
    private final List<String> allowedHosts;
    private boolean insecure;
    private ClusterSettings cluster;

    private Builder(ServerConfig c) {
      host = c.host;
      port = c.port;
      demo = c.demo;
      dataDir = c.dataDir;
      metricsRetentionMs = c.metricsRetentionMs;
      maxMetricRuns = c.maxMetricRuns;
      maxRuns = c.maxRuns;
      maxSteps = c.maxSteps;
      maxClients = c.maxClients;
      alertWebhook = c.alertWebhook;
      stallAfterMs = c.stallAfterMs;
      token = c.token;
      allowedOrigins = new ArrayList<>(c.allowedOrigins);
      allowedHosts = new ArrayList<>(c.allowedHosts);
      insecure = c.insecure;
      cluster = c.cluster;
    }

    public Builder host(String v) { host = v; return this; }
    public Builder port(int v) { port = v; return this; }
    public Builder demo(boolean v) { demo = v; return this; }
    public Builder dataDir(Path v) { dataDir = v; return this; }
    public Builder metricsRetentionMs(long v) { metricsRetentionMs = v; return this; }
    public Builder maxMetricRuns(int v) { maxMetricRuns = v; return this; }
    public Builder maxRuns(int v) { maxRuns = v; return this; }
    public Builder maxSteps(int v) { maxSteps = v; return this; }
    public Builder maxClients(int v) { maxClients = v; return this; }
    public Builder alertWebhook(String v) { alertWebhook = v; return this; }
    public Builder stallAfterMs(long v) { stallAfterMs = v; return this; }
    public Builder token(String v) { token = v; return this; }
    public Builder allowOrigin(String v) { allowedOrigins.add(v); return this; }
    public Builder allowHost(String v) { allowedHosts.add(v); return this; }
    public Builder insecure(boolean v) { insecure = v; return this; }
    public Builder cluster(ClusterSettings v) { cluster = v; return this; }

    public ServerConfig build() {
      return new ServerConfig(host, port, demo, dataDir, metricsRetentionMs, maxMetricRuns, maxRuns, maxSteps,
          maxClients, alertWebhook, stallAfterMs, token, List.copyOf(allowedOrigins), List.copyOf(allowedHosts),
          insecure, cluster);
    }
  }
}
