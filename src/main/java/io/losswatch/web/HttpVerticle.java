package io.losswatch.web;

import io.losswatch.metrics.ServerMeters;
import io.losswatch.train.RunManager;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/** Wiring only: the HTTP server with the REST API, {@code /metrics}, the page, and the WebSocket stream. */
public final class HttpVerticle extends VerticleBase {
  private final RunManager manager;
  private final ServerMeters meters;
  private final String host;
  private final int port;
  private HttpServer server;

  public HttpVerticle(RunManager manager, ServerMeters meters, String host, int port) {
    this.manager = manager;
    this.meters = meters;
    this.host = host;
    this.port = port;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    new RestApi(manager).mount(router);
    router.get("/metrics").handler(ctx -> vertx.executeBlocking(() -> meters.registry().scrape(), false)
        .onSuccess(text -> ctx.response()
            .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(text))
        .onFailure(ctx::fail));
    StaticPage.mount(router);
    StreamGateway gateway = new StreamGateway(vertx, manager.runs(), meters);
    server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
        .webSocketHandshakeHandler(hs -> {
          if (StreamGateway.PATH.equals(hs.path())) hs.accept();
          else hs.reject(404);
        })
        .webSocketHandler(gateway::attach)
        .requestHandler(router);
    return gateway.start().compose(v -> server.listen());
  }

  /** The port actually bound (useful with port 0). */
  public int actualPort() {
    return server.actualPort();
  }
}
