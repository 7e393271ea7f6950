package io.losswatch.web;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;

/** The page at {@code /}: for now a short guide to the endpoints. */
final class StaticPage {
  private StaticPage() {
  }

  static void mount(Router router) {
    router.get("/").handler(ctx -> ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8")
        .end("""
            <!doctype html><meta charset="utf-8"><title>losswatch</title>
            <h1>losswatch</h1>
            <ul>
              <li><a href="/api/runs">/api/runs</a>: runs (REST)</li>
              <li><code>/ws</code>: the live step stream (WebSocket)</li>
              <li><a href="/metrics">/metrics</a>: Prometheus</li>
            </ul>
            """));
  }
}
