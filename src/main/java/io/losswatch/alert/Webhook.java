package io.losswatch.alert;

import io.losswatch.core.config.Json;
import io.losswatch.event.Alert;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * POSTs each alert as JSON to one URL. A failure (no answer, or a status other than 2xx) is retried with
 * backoff ({@link #ATTEMPTS} tries, 1 s, 2 s, 4 s apart). Deduplicated: an alert carries an {@code id}
 * (run, kind and step), the same id is sent at most once, and a receiver can use it to drop the repeat
 * that a lost acknowledgement causes.
 */
final class Webhook {
  static final int ATTEMPTS = 4;
  private static final Logger LOG = Logger.getLogger(Webhook.class.getName());
  private final Vertx vertx;
  private final String url;
  private final HttpClient client;
  private final Map<String, Boolean> seen = new LinkedHashMap<>(64, 0.75f, false) {
    @Override protected boolean removeEldestEntry(Map.Entry<String, Boolean> e) {
      return size() > 10_000;   // bounded memory for a long-lived server
    }
  };

  Webhook(Vertx vertx, String url) {
    this.vertx = vertx;
    this.url = url;
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5000));
  }

  void send(Alert a) {
    String id = a.run() + ":" + a.kind().label() + ":" + a.step();
    if (seen.putIfAbsent(id, Boolean.TRUE) != null) return;
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", id);
    body.put("run", a.run());
    body.put("name", a.name());
    body.put("kind", a.kind().label());
    body.put("step", (double) a.step());
    body.put("message", a.message());
    body.put("suggested_lr", Double.isNaN(a.suggestedLr()) ? null : a.suggestedLr());
    body.put("time", Instant.ofEpochMilli(a.time()).toString());
    attempt(Json.write(body), 1);
  }

  private void attempt(String json, int n) {
    client.request(new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url).setTimeout(10_000))
        .compose(req -> req.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").send(json))
        .compose(resp -> resp.statusCode() / 100 == 2 ? resp.body().mapEmpty()
            : io.vertx.core.Future.failedFuture("status " + resp.statusCode()))
        .onFailure(e -> {
          if (n >= ATTEMPTS) {
            LOG.warning("alert webhook " + url + " failed " + n + " times, giving up: " + e.getMessage());
            return;
          }
          vertx.setTimer(1000L << (n - 1), t -> attempt(json, n + 1));
        });
  }
}
