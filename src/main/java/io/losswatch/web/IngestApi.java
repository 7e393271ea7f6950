package io.losswatch.web;

import io.losswatch.core.config.Options;
import io.losswatch.event.Append;
import io.losswatch.event.Appended;
import io.losswatch.event.Finish;
import io.losswatch.event.RunState;
import io.losswatch.run.Run;
import io.losswatch.run.RunManager;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * External runs' way in: {@code POST /api/runs/{id}/steps} appends a script's steps (columnar, as the WebSocket
 * sends them) and answers with what its training loop must do; {@code POST /api/runs/{id}/finish} ends the run.
 * Everything is checked before anything is stored: a bad batch is refused whole, naming the field and the value.
 */
final class IngestApi {
  static final int MAX_BODY_BYTES = 4 * 1024 * 1024;
  private static final String RUN = "losswatch.run";
  private final RunManager manager;

  IngestApi(RunManager manager) {
    this.manager = manager;
  }

  /**
   * Mounted after the access guard, and before the body limits and small body limit of every other route. The run
   * is looked up before its body is read: an unknown one is 404 at once; then the body's limits ({@link BodyLimits}).
   */
  void mount(Router router, BodyLimits bodies) {
    for (String path : new String[] {"/api/runs/:id/steps", "/api/runs/:id/finish"}) {
      router.post(path).handler(ctx -> {
        ctx.put(RUN, run(ctx));
        ctx.next();
      });
      router.post(path).handler(bodies::reserve);
    }
    router.post("/api/runs/:id/steps").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.post("/api/runs/:id/steps").handler(this::append);
    router.post("/api/runs/:id/finish").handler(BodyHandler.create(false).setBodyLimit(RestApi.MAX_BODY_BYTES));
    router.post("/api/runs/:id/finish").handler(this::finish);
  }

  /** Whether {@code req} is an append (its body may be up to {@link #MAX_BODY_BYTES}). */
  static boolean isAppend(HttpServerRequest req) {
    return req.method() == HttpMethod.POST && req.path().startsWith("/api/runs/") && req.path().endsWith("/steps");
  }

  /** What an append over {@link #MAX_BODY_BYTES} is told. */
  static String tooLarge() {
    return "the body is over " + MAX_BODY_BYTES + " bytes (4 MiB), the most one append may carry; send the steps in parts";
  }

  private void append(RoutingContext ctx) {
    Run run = ctx.get(RUN);
    String body = RequestInput.text(ctx);
    if (body == null || body.isBlank()) throw new ApiError(400, "a JSON body is required", null);
    Append a = AppendReader.read(run.id(), body, System.currentTimeMillis());
    manager.append(run, a).onSuccess(r -> ok(ctx, Json.appended(r))).onFailure(ctx::fail);
  }

  private void finish(RoutingContext ctx) {
    Run run = ctx.get(RUN);
    Options o = Options.of("", RequestInput.json(ctx));
    RunState state = o.choice("state", null, "finished", "failed").equals("failed") ? RunState.FAILED : RunState.FINISHED;
    String message = o.string("message", null);
    if (message != null && message.length() > 1000) throw o.fail("message", "at most 1000 characters, got " + message.length());
    o.done("a finish");
    manager.finish(run, new Finish(state, message)).onSuccess(s -> ok(ctx, Json.summary(s))).onFailure(ctx::fail);
  }

  private Run run(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return manager.runs().get(id).orElseThrow(() -> ApiError.notFound(id));
  }

  private static void ok(RoutingContext ctx, String json) {
    ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8").end(json);
  }
}
