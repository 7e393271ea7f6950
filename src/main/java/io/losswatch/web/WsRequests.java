package io.losswatch.web;

import io.losswatch.core.config.Options;
import io.losswatch.core.config.SpecException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A client's messages: checked against its limits ({@link InboundLimits}), read, and applied to its session. On a
 * server whose reads need the token, a client that did not show it in its handshake's {@code Authorization} header
 * (a browser cannot) sends {@code {"op":"auth","token":"…"}} first: anything else, or a wrong token, closes the
 * connection with {@link #UNAUTHORIZED}.
 * A bad or excess message gets an error and changes nothing; one over {@link #MAX_MESSAGE_BYTES} closes the
 * connection (1009).
 */
final class WsRequests {
  private static final Logger LOG = Logger.getLogger(WsRequests.class.getName());
  static final int MAX_MESSAGE_BYTES = 4096;
  /** Accepted up to this; the gateway ticks every 10 ms, so live mode sends at most 100 messages a second a run. */
  static final double MAX_HZ = 1000;
  /** The close code for a missing or wrong token (4000–4999 are the application's; 401 as in HTTP). */
  static final short UNAUTHORIZED = 4401;
  static final String AUTHENTICATED = "{\"type\":\"auth\",\"ok\":true}";
  private final WsSession session;
  private final InboundLimits limits = new InboundLimits();

  WsRequests(WsSession session) {
    this.session = session;
  }

  void onText(String text) {
    if (text.length() > MAX_MESSAGE_BYTES || text.getBytes(StandardCharsets.UTF_8).length > MAX_MESSAGE_BYTES) {
      session.close((short) 1009, "message over " + MAX_MESSAGE_BYTES + " bytes");
      return;
    }
    long now = System.nanoTime();
    if (!limits.message(now)) {
      session.notice(Json.wsError("too many messages: at most " + InboundLimits.MAX_MESSAGES_PER_MINUTE
          + " a minute; this one was ignored"));
      return;
    }
    try {
      Options o = Options.of("", Json.parse(text));
      String op = o.choice("op", null, "auth", "subscribe", "unsubscribe");
      if (op.equals("auth")) {
        String given = o.string("token", null);
        o.done("an auth message");
        if (session.authenticate(given)) session.notice(AUTHENTICATED);
        else session.close(UNAUTHORIZED, "wrong token");
        return;
      }
      if (!session.authenticated()) {   // nothing of any run before the token: the connection goes
        session.close(UNAUTHORIZED, "this server needs its token: send {\"op\":\"auth\",\"token\":...} first");
        return;
      }
      List<String> ids = o.strings("runs");
      if (ids == null) throw o.fail("runs", "is required: [\"*\"] or a list of run ids");
      if (op.equals("subscribe")) {
        WsSession.Mode mode = o.choice("mode", "live", "live", "all").equals("all")
            ? WsSession.Mode.ALL : WsSession.Mode.LIVE;
        double hz = o.number("max_hz", 20, v -> v > 0 && v <= MAX_HZ, "must be in (0, " + (int) MAX_HZ + "]");
        if (mode == WsSession.Mode.LIVE && o.has("from_step")) {
          throw o.fail("from_step", "is for mode \"all\" (live mode starts with an overview of the whole run)");
        }
        long fromStep = (long) o.number("from_step", 1, v -> v >= 1 && v == Math.rint(v) && v < 1e15,
            "must be an integer >= 1");
        boolean binary = o.choice("format", "json", "json", "binary").equals("binary");
        o.done("a subscribe message");
        if (limits.subscribe(now)) session.subscribe(ids, mode, hz, fromStep, binary);
        else session.notice(Json.wsError(InboundLimits.subscribeRefusal()));
      } else {
        o.done("an unsubscribe message");
        session.unsubscribe(ids);
      }
    } catch (SpecException e) {
      session.notice(Json.wsError(e.getMessage()));
    } catch (RuntimeException e) {   // a bug, not the client's fault: say so without the details, keep serving
      LOG.log(Level.WARNING, "WebSocket message not handled: " + text, e);
      session.notice(Json.wsError("internal error: this message could not be handled"));
    }
  }
}
