package io.losswatch;


import io.losswatch.bench.BenchCommand;
import io.losswatch.cli.ServeCommand;
import io.losswatch.cli.TraceCommand;
import io.losswatch.server.Server;

/** The command line: {@code java -jar losswatch.jar <command> [options]}. */
public final class Main {
  static final String HELP = """
      losswatch: a streaming live-training monitor

      usage: java -jar losswatch.jar <command> [options]

      commands:
        serve (the default)           train, stream and serve: the page, REST, WebSocket and /metrics
            --host H                  listen address (127.0.0.1)
            --port P                  port (8080; 0 picks a free one)
            --demo gallery|none       start the demo runs (gallery)
            --metrics-retention D     how long an ended run's series stay in /metrics (10m)
            --max-metric-runs N       runs carried in /metrics at most (500)
            --max-runs N              runs kept at most (1000)
            --data-dir D              where every run's history is kept (./losswatch-data)
            --alert-webhook URL       POST every alert there as JSON (retried, deduplicated)
            --stall-after D           alert when a running run takes no step for this long (30s), or
                                      for three of its steps' time if it is paced slower
            --max-steps N             steps one run may ask for (100000000)
            --max-clients N           WebSocket connections at most (10000)
            --token T                 changes need "Authorization: Bearer T" (or set LOSSWATCH_TOKEN)
            --allow-origin O          also accept changes and WebSocket handshakes from pages at origin O
            --allow-host H            also answer requests whose Host is H (say, the name a proxy or
                                      Prometheus reaches this server by); repeatable
            --insecure                allow a non-loopback --host without a token
            --cluster                 join a cluster of nodes (Hazelcast, TCP-IP join); docs/cluster.md
            --cluster-name N          only nodes of this name join each other (losswatch; never dev)
            --cluster-host H          this node's address for the other members (127.0.0.1)
            --cluster-port P          its Hazelcast port, fixed (5701)
            --cluster-members L       host:port,... of the members
            --node-name N             this node's name, kept with the runs it owns (cluster-host-port)
            --cluster-secret-file F   required with --cluster: the file holding the secret every node
                                      shares (openssl rand -base64 32); or LOSSWATCH_CLUSTER_SECRET
        trace --spec <JSON or file>   run a RunSpec headless; print step,loss,lr,grad_norm as CSV
                                      (trace --help)
        bench [--quick] [--only=X]    measure the live server (run it with java -Xmx2g); see BENCHMARKS.md
                                      (X: pipeline, history, ws-all, ws-live, ingest, metrics, sweep, cluster,
                                      lr-free: auto_lr against the learning-rate-free optimizers)
        help                          this text
      """;

  private Main() {
  }

  public static void main(String[] args) {
    Server.configureNetty();   // before anything loads Netty
    int status = run(args);
    // serve returns 0 and keeps running on Vert.x's threads; everything else is done
    boolean serving = status == 0 && (args.length == 0 || args[0].equals("serve") || (args[0].startsWith("--") && !isHelp(args[0])));
    if (!serving) System.exit(status);
  }

  private static boolean isHelp(String a) {
    return a.equals("--help") || a.equals("-h");
  }

  static int run(String[] args) {
    boolean flagsOnly = args.length == 0 || (args[0].startsWith("--") && !isHelp(args[0]));
    String command = flagsOnly ? "serve" : args[0];
    String[] rest = flagsOnly ? args : java.util.Arrays.copyOfRange(args, 1, args.length);
    switch (command) {
      case "serve":
        return ServeCommand.run(rest, System.out, System.err);
      case "trace":
        return TraceCommand.run(rest, System.out, System.err);
      case "bench":
        return BenchCommand.run(rest, System.out);
      case "help": case "--help": case "-h":
        System.out.print(HELP);
        return 0;
      default:
        System.err.println("losswatch: unknown command '" + command + "'; try --help");
        return 2;
    }
  }
}
