package io.losswatch.server;

import io.losswatch.alert.AlertVerticle;
import io.losswatch.event.LocalCodec;
import io.losswatch.metrics.MetricsVerticle;
import io.losswatch.metrics.ServerMeters;
import io.losswatch.store.RunHistory;
import io.losswatch.store.RunStore;
import io.losswatch.store.StoreVerticle;
import io.losswatch.train.RunManager;
import io.losswatch.train.RunRegistry;
import io.losswatch.web.HttpVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

/** The whole server in one process: Vert.x, the codecs, the metrics, the HTTP verticle, the demo runs. */
public final class Server {
  private final Vertx vertx;
  private final int port;
  private final RunManager manager;
  private final ServerMeters meters;
  private final RunStore store;

  private Server(Vertx vertx, int port, RunManager manager, ServerMeters meters, RunStore store) {
    this.vertx = vertx;
    this.port = port;
    this.manager = manager;
    this.meters = meters;
    this.store = store;
  }

  public static Future<Server> start(ServerConfig config) {
    return start(config, new VertxOptions());
  }

  /** Starts with the given Vert.x options (tests lower the blocked-thread limits). */
  public static Future<Server> start(ServerConfig config, VertxOptions options) {
    ServerMeters meters = new ServerMeters();
    Vertx vertx = Vertx.builder()
        .with(options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(false)))
        .withMetrics(new MicrometerMetricsFactory(meters.registry()))
        .build();
    LocalCodec.registerAll(vertx.eventBus());
    RunRegistry runs = new RunRegistry();
    meters.bind(runs);
    RunStore store = new RunStore(config.dataDir());
    for (RunStore.Restored r : store.loadAll()) runs.restore(r.summary(), new RunHistory(r.summary().id(), r.log()));
    RunManager manager = new RunManager(vertx, runs, store, config.maxRuns());
    HttpVerticle http = new HttpVerticle(manager, meters, config.host(), config.port());
    return vertx.deployVerticle(new MetricsVerticle(meters.registry(), config.metricsRetentionMs(), config.maxMetricRuns()))
        .compose(x -> vertx.deployVerticle(new StoreVerticle(store, runs),
            new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)))
        .compose(x -> vertx.deployVerticle(new AlertVerticle(runs, config.alertWebhook())))
        .compose(x -> vertx.deployVerticle(http))
        .compose(x -> config.demo() ? Demo.launch(manager) : Future.succeededFuture())
        .<Server>map(x -> new Server(vertx, http.actualPort(), manager, meters, store))
        .recover(e -> vertx.close().transform(x -> Future.failedFuture(e)));
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

  /** Stops Vert.x, then closes the logs: once the verticles are gone nothing writes. */
  public Future<Void> close() {
    return vertx.close().onComplete(x -> store.close());
  }
}
