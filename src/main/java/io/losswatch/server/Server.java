package io.losswatch.server;

import io.losswatch.alert.AlertVerticle;
import io.losswatch.cluster.ClusterSettings;
import io.losswatch.cluster.ClusterVerticle;
import io.losswatch.run.Placement;
import io.losswatch.event.Codecs;
import io.losswatch.metrics.MetricsVerticle;
import io.losswatch.metrics.ServerMeters;
import io.losswatch.store.RunStore;
import io.losswatch.store.StoreVerticle;
import io.losswatch.run.RunFiles;
import io.losswatch.run.RunManager;
import io.losswatch.run.RunRegistry;
import io.losswatch.web.HttpVerticle;
import io.losswatch.web.WebConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.losswatch.run.Run;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

/** The whole server in one process: Vert.x, the codecs, the store, the metrics, the HTTP verticles, the demo runs. */
public final class Server {
  static final int HTTP_INSTANCES = Math.max(1, Runtime.getRuntime().availableProcessors());
  /**
   * How long an event loop runs queued tasks before it looks at its sockets again. Netty 4.2's default is a
   * second, so with many unpaced runs re-queuing their slices (a sweep) every HTTP and WebSocket answer on a loop
   * waited up to a second; 100 ms is the least Netty takes. Read once, when Netty's event loop class loads: set
   * before any Vert.x starts. (Runs that many also re-queue by timer: TrainerSource.wake.)
   */
  static final String TASK_QUANTUM_MS = "100";

  static {
    configureNetty();
    Logging.configure();
  }

  public static void configureNetty() {
    System.setProperty("io.netty.eventLoop.maxTaskProcessingQuantumMs",
        System.getProperty("io.netty.eventLoop.maxTaskProcessingQuantumMs", TASK_QUANTUM_MS));
  }
  private final Vertx vertx;
  private final HazelcastClusterManager members;
  private final int port;
  private final List<HttpVerticle> http;
  private final RunManager manager;
  private final ServerMeters meters;
  private final RunStore store;

  private Server(Vertx vertx, HazelcastClusterManager members, int port, List<HttpVerticle> http, RunManager manager,
      ServerMeters meters, RunStore store) {
    this.vertx = vertx;
    this.members = members;
    this.port = port;
    this.http = http;
    this.manager = manager;
    this.meters = meters;
    this.store = store;
  }

  public static Future<Server> start(ServerConfig config) {
    return start(config, new VertxOptions());
  }

  /**
   * Starts with the given Vert.x options (tests lower the blocked-thread limits). With cluster settings, the node
   * joins the cluster first (Hazelcast, each connection proving the cluster secret; the event bus on the cluster
   * host, under TLS), and mirrors the others' runs.
   */
  public static Future<Server> start(ServerConfig config, VertxOptions options) {
    // before anything is loaded: a second server on the same data folder must not touch the first one's files
    if (config.port() != 0 && !free(config.host(), config.port())) {
      return Future.failedFuture(new PortInUse(config.host(), config.port(), null));
    }
    ServerMeters meters = new ServerMeters();
    VertxBuilder builder = Vertx.builder()
        // a registry name of its own: Vert.x keeps one backend per name and JVM, so a second server in one JVM (two
        // nodes in a test) would otherwise count its event bus into the first's registry
        .with(options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(false)
            .setRegistryName("losswatch-" + java.util.UUID.randomUUID()).addLabels(Label.EB_ADDRESS)))
        .withMetrics(new MicrometerMetricsFactory(meters.registry()));
    ClusterSettings cluster = config.cluster();
    if (cluster == null) return start(config, meters, builder.build(), null);
    Future<HazelcastClusterManager> joined = joined(cluster);
    try {
      cluster.eventBus(options.getEventBusOptions());   // the TLS identity, built while Hazelcast joins
    } catch (RuntimeException e) {
      return joined.compose(Server::leave).transform(x -> Future.failedFuture(e));
    }
    return joined.compose(members -> builder.withClusterManager(members).buildClustered()
        .recover(e -> leave(members).transform(x -> Future.failedFuture(e)))
        .compose(vertx -> start(config, meters, vertx, members)));
  }

  /** This node's Hazelcast member, joined on a thread of its own (seconds); ours to shut down after Vert.x. */
  private static Future<HazelcastClusterManager> joined(ClusterSettings cluster) {
    Promise<HazelcastClusterManager> joined = Promise.promise();
    Thread t = new Thread(() -> {
      try {
        joined.complete(cluster.join());
      } catch (RuntimeException e) {
        joined.fail(e);
      }
    }, "losswatch-cluster-join");
    t.setDaemon(true);
    t.start();
    return joined.future();
  }

  /** Shuts this node's Hazelcast member down (Vert.x leaves one it was given running), off any event loop. */
  private static Future<Void> leave(HazelcastClusterManager members) {
    if (members == null) return Future.succeededFuture();
    return Future.fromCompletionStage(CompletableFuture.runAsync(() -> members.getHazelcastInstance().shutdown()));
  }

  private static Future<Server> start(ServerConfig config, ServerMeters meters, Vertx vertx, HazelcastClusterManager members) {
    Codecs.registerAll(vertx.eventBus());
    RunRegistry runs = new RunRegistry();
    meters.bind(runs);
    RunStore store = new RunStore(config.dataDir(), config.cluster() == null ? null : config.cluster().node());
    for (RunFiles.Restored r : store.loadAll()) runs.restore(r);
    RunManager manager = new RunManager(vertx, runs, store, config.maxRuns());
    // every HTTP verticle must bind the same port, so "any free port" is chosen here, once
    ServerConfig bound = config.port() == 0 ? config.toBuilder().port(freePort(config.host())).build() : config;
    // one HTTP verticle per core, all on that port: Vert.x spreads the connections, so fan-out uses every core
    List<HttpVerticle> http = new ArrayList<>();
    WebConfig web = new WebConfig(bound.host(), bound.port(), bound.allowedHosts(), bound.allowedOrigins(), bound.token(), bound.publicRead(),
        bound.maxSteps(), bound.maxClients(), meters::scrape, meters.wsClients(), meters.wsDropped(),
        meters.bodyBytes(), meters.bodiesBusy());
    for (int i = 0; i < HTTP_INSTANCES; i++) http.add(new HttpVerticle(manager, web));
    Future<Server> started = vertx.deployVerticle(new MetricsVerticle(meters, config.metricsRetentionMs(), config.maxMetricRuns()))
        .compose(x -> vertx.deployVerticle(new StoreVerticle(store),
            new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)))
        .compose(x -> vertx.deployVerticle(new AlertVerticle(runs, config.alertWebhook(), config.stallAfterMs())))
        // join, not all: Vert.x closes only once every instance's listen has settled (else it fails one twice)
        .compose(x -> Future.join(http.stream().map(vertx::deployVerticle).toList()))
        .compose(x -> manager.adoptInterrupted())
        .compose(x -> members == null ? Future.succeededFuture() : vertx.deployVerticle(new ClusterVerticle(manager, members,
            new Placement.Node(config.cluster().node(), ClusterVerticle.url(config.cluster().host(), bound.port())))))
        .compose(x -> config.demo() ? Demo.launch(manager) : Future.succeededFuture())
        .<Server>map(x -> new Server(vertx, members, bound.port(), http, manager, meters, store));
    // answered on no context: once Vert.x is closed its event loops take no more tasks (a listener there was lost)
    Promise<Server> result = Promise.promise();
    started.onComplete(ar -> {
      if (ar.succeeded()) {
        result.complete(ar.result());
        return;
      }
      Throwable e = inUse(ar.cause()) ? new PortInUse(bound.host(), bound.port(), ar.cause()) : ar.cause();
      vertx.close().eventually(() -> leave(members)).onComplete(x -> {
        store.close();
        result.fail(e);
      });
    });
    return result.future();
  }

  /** Another program listens on the port this server was to take. */
  public static final class PortInUse extends RuntimeException {
    public final int port;

    PortInUse(String host, int port, Throwable cause) {
      super("port " + port + " is in use: another program (another losswatch?) listens on " + host + ":" + port
          + "; stop it, or choose another --port", cause, false, false);
      this.port = port;
    }
  }

  /** Whether {@code e} says the address is taken (and not, say, that the host is not this machine's). */
  private static boolean inUse(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("Address already in use")) return true;
    }
    return false;
  }

  /** Whether nothing listens on {@code host:port} now (a probe: binding it and letting go at once). */
  private static boolean free(String host, int port) {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.setReuseAddress(true);   // as the HTTP server binds: a port in TIME_WAIT is free
      s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName(host), port), 1);
      return true;
    } catch (java.io.IOException e) {
      if (inUse(e)) return false;
      return true;   // an unknown host or the like: the HTTP server's own bind says what is wrong
    }
  }

  public int port() {
    return port;
  }

  public Vertx vertx() {
    return vertx;
  }

  public RunManager manager() {
    return manager;
  }

  public ServerMeters meters() {
    return meters;
  }

  /**
   * Shuts down gracefully (SIGTERM comes here): appends are refused first (503: a script keeps its steps and sends
   * them to the server that comes back), then every run stops at a step boundary, the store writes what it still
   * holds, WebSocket clients are closed with 1001 (going away), then Vert.x stops and the logs close. Runs cut off
   * this way come back as {@code interrupted}.
   */
  public Future<Void> close() {
    manager.close();   // appends are refused (send them again) from now on, before any run's verticle goes
    List<Future<?>> stopped = new ArrayList<>();
    for (Run run : manager.runs().unordered()) {
      if (run.deploymentId() != null) stopped.add(vertx.undeploy(run.deploymentId()).recover(e -> Future.succeededFuture()));
    }
    return Future.join(stopped)
        .compose(x -> flushed(System.currentTimeMillis() + 10_000))
        .compose(x -> Future.join(http.stream().map(HttpVerticle::goAway).toList()))
        .<Void>mapEmpty()
        .eventually(() -> vertx.close())
        .eventually(() -> leave(members))
        .onComplete(x -> store.close());
  }

  private static int freePort(String host) {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("no free port on " + host, e);
    }
  }

  /** Completes once every persisted run's log holds its whole history (or at the deadline). */
  private Future<Void> flushed(long deadline) {
    boolean behind = manager.runs().unordered().stream()
        .anyMatch(r -> r.history().log() != null && r.history().log().lastStep() < r.history().lastStep());
    if (!behind || System.currentTimeMillis() > deadline) return Future.succeededFuture();
    return vertx.timer(10).compose(x -> flushed(deadline));
  }
}
