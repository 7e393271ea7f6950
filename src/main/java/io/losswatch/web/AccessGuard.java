package io.losswatch.web;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;

/**
 * Who may read ({@code /api/*} and {@code /metrics} by GET, HEAD or OPTIONS): with a token, whoever shows it, unless
 * {@code --public-read}. Who may change anything (every other method), checked in this order:
 * <ol>
 *   <li>an {@code Origin}, when present, must pass the WebSocket's {@link OriginPolicy};</li>
 *   <li>the {@code Content-Type} must be {@code application/json}, even for a command without a body: a page on
 *       another site can send a "simple" cross-site request (a {@code text/plain} form or a {@code no-cors}
 *       fetch) without the browser asking first, but never one of JSON type;</li>
 *   <li>when a token is set, {@code Authorization: Bearer <token>}.</li>
 * </ol>
 * {@code /health} and the page's own files are outside: the page loads, then asks for the token.
 */
final class AccessGuard implements Handler<RoutingContext> {
  private final OriginPolicy origins;
  private final Token token;

  AccessGuard(OriginPolicy origins, Token token) {
    this.origins = origins;
    this.token = token;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (Token.reads(req)) {
      if (token.guardsReads()) token.check(ctx, "read");
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
    if (token.guardsChanges()) token.check(ctx, "change");
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
