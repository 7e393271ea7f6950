package io.losswatch.web;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The server's bearer token ({@code --token}), if any, and who must show it: every change, and every read unless
 * {@code --public-read}. Requests show it as {@code Authorization: Bearer <token>}; a WebSocket as its handshake's
 * header or its first message ({@link WsRequests}), since a browser's WebSocket cannot set headers. Compared in
 * constant time: no timing oracle.
 */
final class Token {
  private final byte[] token;
  private final boolean publicRead;

  /** {@code token}: null for none (everyone may read and change). */
  Token(String token, boolean publicRead) {
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    this.publicRead = publicRead;
  }

  /** Whether reading (GET, {@code /metrics}, the WebSocket's subscriptions) needs the token. */
  boolean guardsReads() {
    return token != null && !publicRead;
  }

  /** Whether changes need the token. */
  boolean guardsChanges() {
    return token != null;
  }

  /** Whether {@code given} is the token. */
  boolean matches(String given) {
    return token != null && given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token);
  }

  /** The token an {@code Authorization} header carries, or null. */
  static String bearer(String authorization) {
    return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
        ? authorization.substring(7).trim() : null;
  }

  /** Refuses {@code ctx} (401) unless it carries the token; {@code what}: "read" or "change", for the message. */
  void check(RoutingContext ctx, String what) {
    String given = bearer(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
    if (matches(given)) return;
    ctx.response().putHeader("WWW-Authenticate", "Bearer");
    throw new ApiError(401, given == null ? "this server needs a bearer token to " + what + " anything"
        + " (Authorization: Bearer <token>)" : "wrong bearer token", null);
  }

  /** Whether {@code req} only reads (GET, HEAD, OPTIONS); every other method is a change ({@link AccessGuard}). */
  static boolean reads(HttpServerRequest req) {
    HttpMethod m = req.method();
    return m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS;
  }
}
