package io.losswatch.web;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What a REST request carries, read strictly: its body as UTF-8 JSON, its integer query parameters. */
final class RequestInput {
  private RequestInput() {
  }

  /** The body, parsed; an absent or blank one is refused. */
  /** The JSON body, or an empty object when there is none (every field optional). */
  static Object jsonOrEmpty(RoutingContext ctx) {
    String text = text(ctx);
    return text == null || text.isBlank() ? Map.of() : Json.parse(text);
  }

  static Object json(RoutingContext ctx) {
    String text = text(ctx);
    if (text == null || text.isBlank()) throw new ApiError(400, "a JSON body is required", null);
    return Json.parse(text);
  }

  /**
   * The body as UTF-8, strictly: malformed bytes (a lone surrogate encoded as if it were a character, say)
   * are refused rather than turned into U+FFFD.
   */
  static String text(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    if (body == null) return null;
    ByteBuffer in = ByteBuffer.wrap(body.getBytes());
    CharBuffer out = CharBuffer.allocate(in.remaining());
    CoderResult r = StandardCharsets.UTF_8.newDecoder().decode(in, out, true);
    if (r.isError()) throw new ApiError(400, "the body is not valid UTF-8 at byte " + in.position(), null);
    return out.flip().toString();
  }

  /** A command without arguments takes no body, or an empty JSON object. */
  static void none(RoutingContext ctx) {
    String text = text(ctx);
    if (text == null || text.isBlank()) return;
    if (!(Json.parse(text) instanceof Map<?, ?> m) || !m.isEmpty()) {
      throw new ApiError(400, ctx.request().method() + " " + ctx.request().path() + " takes no arguments: send {} or"
          + " no body", null);
    }
  }

  /** The query parameter {@code name} as true or false, or false when absent. */
  static boolean bool(RoutingContext ctx, String name) {
    String v = ctx.queryParams().get(name);
    if (v == null || v.isEmpty() || v.equals("false")) return false;
    if (v.equals("true")) return true;
    throw new ApiError(400, name + ": must be true or false, got " + Json.quote(v), name);
  }

  /** The query parameter {@code name} as an integer in [min, max], or {@code def} when absent. */
  static long integer(RoutingContext ctx, String name, long def, long min, long max) {
    String v = ctx.queryParams().get(name);
    if (v == null || v.isEmpty()) return def;
    long n;
    try {
      n = Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      if (v.trim().matches("\\+?[0-9]+")) throw new ApiError(400, name + ": at most " + max + ", got " + v.trim(), name);
      throw new ApiError(400, name + ": must be an integer, got " + Json.quote(v), name);
    }
    if (n < min) throw new ApiError(400, name + ": must be >= " + min + ", got " + n, name);
    if (n > max) throw new ApiError(400, name + ": at most " + max + ", got " + n, name);
    return n;
  }
}
