package io.losswatch.web;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The live page: {@code /} serves the files under {@code webroot/} on the classpath (index.html, js/*.mjs,
 * app.css), {@code /webjars/*} the WebJars (uPlot). Mounted after the REST API and {@code /metrics}, and never
 * under {@code /api}, {@code /metrics}, {@code /health} or {@code /ws}, so their own 404 and 405 answers stay
 * theirs; the WebSocket upgrade at {@code /ws} never reaches the router.
 */
final class StaticPage {
  private StaticPage() {
  }

  static void mount(Router router) {
    // versioned paths: cacheable for a day (the default)
    router.route("/webjars/*").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(StaticHandler.create("META-INF/resources/webjars"));
    // the page changes with the jar: browsers revalidate every time (Last-Modified, 304)
    router.routeWithRegex("/(?!api(/|$)|metrics$|health$|ws$).*").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(StaticHandler.create("webroot").setMaxAgeSeconds(0));
  }
}
