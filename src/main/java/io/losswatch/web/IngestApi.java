package io.losswatch.web;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.Options;
import io.losswatch.event.Append;
import io.losswatch.event.Appended;
import io.losswatch.event.Finish;
import io.losswatch.event.RunState;
import io.losswatch.run.Run;
import io.losswatch.run.RunManager;
import io.vertx.core.http.HttpHeaders;
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
  private final RunManager manager;

  IngestApi(RunManager manager) {
    this.manager = manager;
  }

  /** Mounted after the change guard and before the small body limit of every other route. */
  void mount(Router router) {
    router.post("/api/runs/:id/steps").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router.post("/api/runs/:id/steps").handler(this::append);
    router.post("/api/runs/:id/finish").handler(BodyHandler.create(false).setBodyLimit(RestApi.MAX_BODY_BYTES));
    router.post("/api/runs/:id/finish").handler(this::finish);
  }

  private void append(RoutingContext ctx) {
    Run run = run(ctx);
    String body = RequestInput.text(ctx);
    if (body == null || body.isBlank()) throw new ApiError(400, "a JSON body is required", null);
    Append a = AppendReader.read(run.id(), body, System.currentTimeMillis());
    manager.append(run, a).onSuccess(r -> ok(ctx, answer(r))).onFailure(ctx::fail);
  }

  private void finish(RoutingContext ctx) {
    Run run = run(ctx);
    Options o = Options.of("", RequestInput.json(ctx));
    RunState state = o.choice("state", null, "finished", "failed").equals("failed") ? RunState.FAILED : RunState.FINISHED;
    String message = o.string("message", null);
    if (message != null && message.length() > 1000) throw o.fail("message", "at most 1000 characters, got " + message.length());
    o.done("a finish");
    manager.finish(run, new Finish(state, message)).onSuccess(s -> ok(ctx, Wire.summary(s))).onFailure(ctx::fail);
  }

  private Run run(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    return manager.runs().get(id).orElseThrow(() -> ApiError.notFound(id));
  }

  private static String answer(Appended r) {
    StringBuilder b = new StringBuilder(128).append("{\"accepted\":").append(r.accepted()).append(",\"duplicates\":")
        .append(r.duplicates()).append(",\"skipped\":").append(r.skipped()).append(",\"last_step\":").append(r.lastStep())
        .append(",\"commands\":[");
    for (int i = 0; i < r.commands().size(); i++) {
      Appended.Command c = r.commands().get(i);
      b.append(i > 0 ? ",{\"id\":" : "{\"id\":");
      Json.quote(b, c.id());
      b.append(",\"op\":\"").append(c.op()).append('"');
      switch (c.op()) {
        case "lr" -> {
          b.append(",\"lr\":");
          Json.number(b, c.lr());
          b.append(",\"factor\":");
          if (Double.isNaN(c.factor())) b.append("null");
          else Json.number(b, c.factor());
        }
        case "stop" -> {
          b.append(",\"reason\":");
          Json.quote(b, c.reason());
        }
        case "rewind" -> {
          b.append(",\"to_step\":").append(c.toStep()).append(",\"lr_factor\":");
          Json.number(b, c.factor());
        }
        case "probe" -> {
          b.append(",\"factors\":[");
          for (int k = 0; k < c.factors().length; k++) Json.number(k > 0 ? b.append(',') : b, c.factors()[k]);
          b.append("],\"horizon\":").append(c.horizon());
        }
        default -> { }
      }
      b.append('}');
    }
    return b.append("]}").toString();
  }

  private static void ok(RoutingContext ctx, String json) {
    ctx.response().setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8").end(json);
  }
}
