package io.losswatch.web;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * Who may change anything (every method but GET, HEAD and OPTIONS), checked in this order:
 * <ol>
 *   <li>an {@code Origin}, when present, must pass the WebSocket's {@link OriginPolicy};</li>
 *   <li>the {@code Content-Type} must be {@code application/json}, even for a command without a body: a page on
 *       another site can send a "simple" cross-site request (a {@code text/plain} form or a {@code no-cors}
 *       fetch) without the browser asking first, but never one of JSON type;</li>
 *   <li>when a token is set, {@code Authorization: Bearer <token>}.</li>
 * </ol>
 * Reading needs none of this.
 */
final class ChangeGuard implements Handler<RoutingContext> {
  private final OriginPolicy origins;
  private final byte[] token;

  /** {@code token}: when set, every change must carry {@code Authorization: Bearer <token>}. */
  ChangeGuard(OriginPolicy origins, String token) {
    this.origins = origins;
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    HttpMethod m = req.method();
    if (m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS) {
      ctx.next();
      return;
    }
    String origin = req.getHeader(HttpHeaders.ORIGIN);
    if (origin != null && !origins.allows(origin, req.getHeader(HttpHeaders.HOST))) {
      throw new ApiError(403, "Origin: pages at " + quote(origin) + " may not change anything here (allowed: this"
          + " server's own pages, localhost, and --allow-origin)", "Origin");
    }
    String type = req.getHeader(HttpHeaders.CONTENT_TYPE);
    if (!isJson(type)) {
      throw new ApiError(403, "Content-Type: changes must be sent as application/json (a JSON body, or {} or"
          + " nothing for pause, resume, stop, apply-advice and DELETE), got "
          + (type == null ? "none" : quote(type)), "Content-Type");
    }
    if (token != null) {
      String h = req.getHeader(HttpHeaders.AUTHORIZATION);
      byte[] given = h != null && h.startsWith("Bearer ") ? h.substring(7).trim().getBytes(StandardCharsets.UTF_8) : null;
      if (given == null || !MessageDigest.isEqual(given, token)) {   // constant time: no timing oracle
        ctx.response().putHeader("WWW-Authenticate", "Bearer");
        throw new ApiError(401, given == null ? "this server needs a bearer token to change anything"
            : "wrong bearer token", null);
      }
    }
    ctx.next();
  }

  /** {@code application/json}, in any case, with or without parameters such as {@code ; charset=utf-8}. */
  static boolean isJson(String contentType) {
    if (contentType == null) return false;
    int semi = contentType.indexOf(';');
    String media = (semi < 0 ? contentType : contentType.substring(0, semi)).trim();
    return media.toLowerCase(Locale.ROOT).equals("application/json");
  }

  private static String quote(String s) {
    return "\"" + (s.length() <= 100 ? s : s.substring(0, 100) + "...") + "\"";
  }
}
