package io.losswatch.cli;

import io.losswatch.core.config.SpecException;
import io.losswatch.server.Server;
import io.losswatch.server.ServerConfig;
import io.losswatch.web.Hosts;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code losswatch serve [options]}: the main job, and the default command. */
@Command(name = "serve", sortOptions = false, showDefaultValues = true,
    synopsisHeading = "",
    customSynopsis = "usage: java -jar losswatch.jar [serve] [options]",
    descriptionHeading = "%n",
    description = {"Trains, streams and serves: the page, REST, WebSocket and /metrics (docs/operations.md).",
        "The default command: losswatch [options] is losswatch serve [options]."},
    optionListHeading = "%noptions:%n")
public final class ServeCommand implements Callable<Integer> {
  @Mixin
  ServeOptions options;
  @Mixin
  Cli.Help help;
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    return start(options, spec);
  }

  /**
   * Starts the server and answers 0 while it keeps running, 2 for a bad option or a port another program holds, 1
   * if it could not start otherwise; LOSSWATCH_TOKEN and LOSSWATCH_CLUSTER_SECRET stand in for options not given.
   */
  static int start(ServeOptions options, CommandSpec spec) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ServerConfig config;
    try {
      config = options.config(System.getenv("LOSSWATCH_TOKEN"), System.getenv("LOSSWATCH_CLUSTER_SECRET"));
    } catch (SpecException e) {
      err.println("serve: " + e.getMessage());
      err.flush();
      return Cli.USAGE;
    }
    Server server;
    try {
      // joining a cluster waits for Hazelcast's members, which a busy machine makes slow: a hang is still cut off
      long limit = config.cluster() == null ? 60 : 300;
      server = Server.start(config).toCompletionStage().toCompletableFuture().get(limit, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Server.PortInUse taken) {   // one line, no stack trace: a usage error
        err.println(taken.getMessage());
        err.flush();
        return Cli.USAGE;
      }
      err.println("serve: cannot start on " + config.host() + ":" + config.port() + ": " + e.getCause().getMessage());
      err.flush();
      return 1;
    } catch (Exception e) {
      err.println("serve: cannot start: " + e);
      err.flush();
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
