package io.losswatch.web;

import io.losswatch.run.RunManager;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/** Wiring only: the HTTP server with the REST API, {@code /metrics}, the page, and the WebSocket stream. */
public final class HttpVerticle extends VerticleBase {
  private final RunManager manager;
  private final WebConfig config;
  private StreamGateway gateway;

  public HttpVerticle(RunManager manager, WebConfig config) {
    this.manager = manager;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    HostPolicy hosts = HostPolicy.of(config.host(), config.allowedHosts());
    OriginPolicy origins = new OriginPolicy(config.allowedOrigins());
    Token token = new Token(config.token(), config.publicRead());
    Router router = router(vertx, manager, config, hosts, origins);
    gateway = new StreamGateway(vertx, manager.runs(), manager.steps(), config, token);
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(config.host()).setPort(config.port())
            .setIdleTimeout(BodyLimits.IDLE_SECONDS))
        .webSocketHandshakeHandler(hs -> {
          ApiError refused = hosts.check(hs.headers().getAll(HttpHeaders.HOST), hs.authority());
          if (refused != null) hs.reject(refused.status);
          else if (!StreamGateway.PATH.equals(hs.path())) hs.reject(404);
          else if (!origins.allows(hs.headers().get(HttpHeaders.ORIGIN), hs.headers().get(HttpHeaders.HOST))) hs.reject(403);
          else if (token.guardsReads() && hs.headers().contains(HttpHeaders.AUTHORIZATION)
              && !token.matches(Token.bearer(hs.headers().get(HttpHeaders.AUTHORIZATION)))) hs.reject(401);
          // a client's place is taken before its 101, over all instances, so a burst cannot pass the cap
          else if (config.wsClients().incrementAndGet() > config.maxClients()) {
            config.wsClients().decrementAndGet();
            hs.reject(503);
          } else hs.accept().onFailure(e -> config.wsClients().decrementAndGet());
        })
        .webSocketHandler(gateway::attach)
        .requestHandler(router);
    return gateway.start().compose(v -> server.listen());
  }

  /**
   * Every HTTP route: the Host check first, the REST API, {@code /metrics}, the page. The WebSocket upgrade at
   * {@code /ws} is the server's, before any of them. Built without listening, so {@code DocsTest} reads the routes.
   */
  static Router router(Vertx vertx, RunManager manager, WebConfig config, HostPolicy hosts, OriginPolicy origins) {
    Router router = Router.router(vertx);
    BodyLimits bodies = new BodyLimits(config.bodyBytes(), config.bodiesBusy());
    // first of all, for every route: a body's deadline, then the Host (RestApi's failure handler writes the refusal)
    router.route().handler(ctx -> {
      bodies.deadline(ctx);
      ApiError refused = hosts.check(ctx.request().headers().getAll(HttpHeaders.HOST), ctx.request().authority());
      if (refused != null) ctx.fail(refused);
      else ctx.next();
    });
    AccessGuard guard = new AccessGuard(origins, new Token(config.token(), config.publicRead()));
    new RestApi(manager, guard, bodies, config.maxSteps()).mount(router);
    router.get("/metrics").handler(guard);   // Prometheus sends the token as a bearer token
    router.get("/metrics").handler(ctx -> vertx.executeBlocking(config.scrape(), false)
        .onSuccess(text -> ctx.response()
            .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8").end(text))
        .onFailure(ctx::fail));
    StaticPage.mount(router);
    return router;
  }

  /** Closes every WebSocket with 1001 (going away): the server is shutting down. */
  public Future<Void> goAway() {
    return gateway.closeAll();
  }
}
