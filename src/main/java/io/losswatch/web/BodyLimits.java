package io.losswatch.web;

import io.micrometer.core.instrument.Counter;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What request bodies may hold, decided on a request's head before a byte of its body is read (after
 * {@link AccessGuard} refused a bad head, and an append's unknown run got its 404):
 * <ul>
 *   <li>its route's limit, by its {@code Content-Length} (413);</li>
 *   <li>a share of {@link #MAX_IN_FLIGHT} bytes, which the bodies being read on every connection hold together, as
 *       declared (a chunked one as its route's limit): beyond it 503 busy, {@code Retry-After: 1};</li>
 *   <li>{@link #BODY_MS} to arrive whole, whether it is read or, refused, drained: else 408 and the connection is
 *       closed. A connection silent for {@link #IDLE_SECONDS} is closed too (the HTTP server's idle timeout).</li>
 * </ul>
 * So however many connections send bodies slowly, the heap holds at most {@link #MAX_IN_FLIGHT} of them, and /health
 * and every other request keep being answered.
 */
final class BodyLimits {
  /** Bytes of request bodies read at once, over every connection: an eighth of the heap, from 8 to 64 MiB. */
  static final long MAX_IN_FLIGHT = Math.max(8L << 20, Math.min(64L << 20, Runtime.getRuntime().maxMemory() / 8));
  /** How long a request's body may take to arrive whole (4 MiB at 140 kB/s). */
  static final long BODY_MS = 30_000;
  /** How long a connection may stay silent (no request, no byte of one, nothing sent). */
  static final int IDLE_SECONDS = 60;
  private final AtomicLong inFlight;
  private final Counter busy;

  /** {@code inFlight}: shared by every HTTP verticle of the server; {@code busy}: bodies refused for it. */
  BodyLimits(AtomicLong inFlight, Counter busy) {
    this.inFlight = inFlight;
    this.busy = busy;
  }

  /** First on every route: a request's body, read or drained, must be whole within {@link #BODY_MS}. */
  void deadline(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (req.isEnded() || !hasBody(req)) return;
    long timer = ctx.vertx().setTimer(BODY_MS, id -> {
      if (req.isEnded()) return;
      HttpServerResponse res = ctx.response();
      if (res.ended() || res.headWritten()) {
        req.connection().close();
        return;
      }
      res.setStatusCode(408).putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
          .putHeader(HttpHeaders.CONNECTION, "close")
          .end(Json.error("the body did not arrive whole within " + BODY_MS / 1000 + " s; the connection is closed", null))
          .onComplete(x -> req.connection().close());
    });
    ctx.addEndHandler(x -> {   // answered: a body still coming (refused, drained) keeps its deadline
      if (req.isEnded()) ctx.vertx().cancelTimer(timer);
    });
  }

  /** Before a change's body is read: its route's limit, and its share of {@link #MAX_IN_FLIGHT} until it is answered. */
  void reserve(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (Token.reads(req) || req.isEnded() || !hasBody(req)) {
      ctx.next();
      return;
    }
    boolean append = IngestApi.isAppend(req);
    long limit = append ? IngestApi.MAX_BODY_BYTES : RestApi.MAX_BODY_BYTES;
    long declared = contentLength(req);
    if (declared > limit) throw new ApiError(413, append ? IngestApi.tooLarge() : RestApi.tooLarge(), null);
    long need = declared >= 0 ? declared : limit;
    if (inFlight.addAndGet(need) > MAX_IN_FLIGHT) {
      inFlight.addAndGet(-need);
      busy.increment();
      ctx.response().putHeader("Retry-After", "1");
      throw new ApiError(503, "busy: the server is reading as many request bodies as it holds at once ("
          + (MAX_IN_FLIGHT >> 20) + " MiB); send it again in a second", null);
    }
    AtomicBoolean held = new AtomicBoolean(true);
    ctx.addEndHandler(x -> {   // answered, failed, or the connection went: once
      if (held.compareAndSet(true, false)) inFlight.addAndGet(-need);
    });
    ctx.next();
  }

  /** Whether the request says a body follows: a length above 0, or chunks. */
  private static boolean hasBody(HttpServerRequest req) {
    return contentLength(req) > 0 || req.headers().contains(HttpHeaders.TRANSFER_ENCODING);
  }

  /** The {@code Content-Length}, -1 when there is none (Netty refuses a malformed one before this). */
  private static long contentLength(HttpServerRequest req) {
    String v = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (v == null) return -1;
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
