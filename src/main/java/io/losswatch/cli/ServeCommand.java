package io.losswatch.cli;

import io.losswatch.core.config.SpecException;
import io.losswatch.web.Hosts;
import io.losswatch.server.Server;
import io.losswatch.server.ServerConfig;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** {@code losswatch serve [--host H] [--port P] [--demo gallery|none] ...}: the main job. */
public final class ServeCommand {
  private ServeCommand() {
  }

  /** Starts the server and returns 0 while it keeps running, or a non-zero status if it could not start. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    ServerConfig config;
    try {
      config = ServerConfig.parse(args, System.getenv("LOSSWATCH_TOKEN"), System.getenv("LOSSWATCH_CLUSTER_SECRET"));
    } catch (SpecException e) {
      err.println("serve: " + e.getMessage());
      return 2;
    }
    Server server;
    try {
      // joining a cluster waits for Hazelcast's members, which a busy machine makes slow: a hang is still cut off
      long limit = config.cluster() == null ? 60 : 300;
      server = Server.start(config).toCompletionStage().toCompletableFuture().get(limit, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      err.println("serve: cannot start on " + config.host() + ":" + config.port() + ": " + e.getCause().getMessage());
      return 1;
    } catch (Exception e) {
      err.println("serve: cannot start: " + e);
      return 1;
    }
    // where a browser on this machine finds it: a wildcard is no address to browse to (nor an allowed Host)
    String host = Hosts.wildcard(config.host()) ? "localhost"
        : config.host().contains(":") && !config.host().startsWith("[") ? "[" + config.host() + "]" : config.host();
    String http = "http://" + host + ":" + server.port();
    out.println("losswatch is running" + (config.demo() ? " with the demo gallery" : ""));
    out.println("  page       " + http + "/");
    out.println("  WebSocket  ws://" + host + ":" + server.port() + "/ws");
    out.println("  REST       " + http + "/api/runs");
    out.println("  metrics    " + http + "/metrics");
    out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      CompletableFuture<Void> closed = server.close().toCompletionStage().toCompletableFuture();
      try {
        closed.get(15, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }));
    return 0;
  }
}
