package io.losswatch.server;

import io.losswatch.core.config.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How the server runs, from the command line:
 * {@code --host} (127.0.0.1), {@code --port} (8080; 0 picks a free one), {@code --demo gallery|none} (gallery),
 * {@code --data-dir} (./losswatch-data: every run's history), {@code --metrics-retention} (10m: how long an
 * ended run's series stay), {@code --max-metric-runs} (500), {@code --max-runs} (1000), {@code --alert-webhook}
 * (none: a URL that receives every alert as JSON).
 */
public record ServerConfig(String host, int port, boolean demo, Path dataDir, long metricsRetentionMs,
    int maxMetricRuns, int maxRuns, String alertWebhook) {

  public static ServerConfig defaults() {
    return new ServerConfig("127.0.0.1", 8080, true, Path.of("losswatch-data"), 600_000, 500, 1000, null);
  }

  /** What tests start: a free port, no demo runs, a fresh data folder of its own. */
  public ServerConfig forTest(int port) {
    try {
      return new ServerConfig(host, port, false, Files.createTempDirectory("losswatch-test"), metricsRetentionMs,
          maxMetricRuns, maxRuns, alertWebhook);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public ServerConfig withDataDir(Path dir) {
    return new ServerConfig(host, port, demo, dir, metricsRetentionMs, maxMetricRuns, maxRuns, alertWebhook);
  }

  public ServerConfig withDemo(boolean on) {
    return new ServerConfig(host, port, on, dataDir, metricsRetentionMs, maxMetricRuns, maxRuns, alertWebhook);
  }

  public ServerConfig withMetricsRetentionMs(long ms) {
    return new ServerConfig(host, port, demo, dataDir, ms, maxMetricRuns, maxRuns, alertWebhook);
  }

  public ServerConfig withAlertWebhook(String url) {
    return new ServerConfig(host, port, demo, dataDir, metricsRetentionMs, maxMetricRuns, maxRuns, url);
  }

  /** Parses {@code --name value} and {@code --name=value} flags; a bad one is a {@link SpecException}. */
  public static ServerConfig parse(String[] args) {
    ServerConfig d = defaults();
    String host = d.host;
    int port = d.port;
    boolean demo = d.demo;
    Path dataDir = d.dataDir;
    long retention = d.metricsRetentionMs;
    int maxMetricRuns = d.maxMetricRuns;
    int maxRuns = d.maxRuns;
    String webhook = d.alertWebhook;
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
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
        case "--host" -> host = value;
        case "--port" -> port = integer(name, value, 0, 65535);
        case "--demo" -> {
          if (!value.equals("gallery") && !value.equals("none")) {
            throw new SpecException(name, "must be gallery or none, got " + value);
          }
          demo = value.equals("gallery");
        }
        case "--data-dir" -> dataDir = Path.of(value);
        case "--metrics-retention" -> retention = duration(name, value);
        case "--max-metric-runs" -> maxMetricRuns = integer(name, value, 1, 1_000_000);
        case "--max-runs" -> maxRuns = integer(name, value, 1, 1_000_000);
        case "--alert-webhook" -> {
          if (!value.startsWith("http://") && !value.startsWith("https://")) {
            throw new SpecException(name, "must be an http:// or https:// URL, got " + value);
          }
          webhook = value;
        }
        default -> throw new SpecException(name, "unknown option");
      }
    }
    return new ServerConfig(host, port, demo, dataDir, retention, maxMetricRuns, maxRuns, webhook);
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
