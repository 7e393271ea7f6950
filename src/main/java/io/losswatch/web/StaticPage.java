package io.losswatch.web;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The live page: {@code /} serves the files under {@code webroot/} on the classpath (index.html, app.js,
 * app.css), {@code /webjars/*} the WebJars (uPlot). Mounted after the REST API and {@code /metrics}, so it
 * never shadows them; the WebSocket upgrade at {@code /ws} never reaches the router.
 */
final class StaticPage {
  private StaticPage() {
  }

  static void mount(Router router) {
    // versioned paths: cacheable for a day (the default)
    router.get("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars"));
    // the page itself changes with the jar: browsers revalidate every time (Last-Modified / 304)
    // (never under /api, /metrics, /health or /ws: their own 404 and 405 answers stay theirs)
    router.getWithRegex("/(?!api(/|$)|metrics$|health$|ws$).*")
        .handler(StaticHandler.create("webroot").setMaxAgeSeconds(0));
  }
}
