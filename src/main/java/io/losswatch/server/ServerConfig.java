package io.losswatch.server;

import io.losswatch.cluster.ClusterSettings;
import io.losswatch.web.Hosts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How the server runs. The command line's options, their defaults and their checks are
 * {@code io.losswatch.cli.ServeOptions}; {@link #defaults()} is what it gives with none.
 */
public record ServerConfig(String host, int port, boolean demo, Path dataDir, long metricsRetentionMs,
    int maxMetricRuns, int maxRuns, int maxSteps, int maxClients, String alertWebhook, long stallAfterMs,
    String token, boolean publicRead, List<String> allowedOrigins, List<String> allowedHosts, boolean insecure,
    ClusterSettings cluster) {

  public static ServerConfig defaults() {
    return new ServerConfig("127.0.0.1", 8080, true, Path.of("losswatch-data"), 600_000, 500, 1000, 100_000_000,
        10_000, null, 30_000, null, false, List.of(), List.of(), false, null);
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
    private boolean publicRead;
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
      publicRead = c.publicRead;
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
    public Builder publicRead(boolean v) { publicRead = v; return this; }
    public Builder allowOrigin(String v) { allowedOrigins.add(v); return this; }
    public Builder allowHost(String v) { allowedHosts.add(v); return this; }
    public Builder insecure(boolean v) { insecure = v; return this; }
    public Builder cluster(ClusterSettings v) { cluster = v; return this; }

    public ServerConfig build() {
      return new ServerConfig(host, port, demo, dataDir, metricsRetentionMs, maxMetricRuns, maxRuns, maxSteps,
          maxClients, alertWebhook, stallAfterMs, token, publicRead, List.copyOf(allowedOrigins),
          List.copyOf(allowedHosts), insecure, cluster);
    }
  }
}
