package io.losswatch.web;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One client's outbound side: a queue bounded in bytes, a measure of how far behind the client reads, and a
 * close that always ends.
 *
 * <p>The queue counts what was handed to the socket and is not yet on the network (Vert.x's queue and Netty's
 * buffer together). {@link #send} writes only while fewer than {@link #QUEUE_BYTES} wait, so the queue never
 * exceeds its bound by more than one message; the window holds several whole messages (a 1,000-step JSON message
 * is about 70 kB, a binary one at most 192 KiB), and the moment a write brings the queue back under it the session
 * is told ({@link #onRoom}), so a client that reads fast is never left waiting for the next tick. ({@code
 * writeQueueFull()} would not do: it turns true only once 16 messages wait behind Netty's buffer, whatever their
 * size.)
 *
 * <p>The bytes leaving the process say nothing of the client: the kernels' buffers take megabytes from a
 * client that never reads. So a ping with a random payload follows the data every {@link #PING_MS} (every
 * {@link #IDLE_PING_MS} when nothing is sent), and its pong proves the client read everything before it. The
 * age of the oldest unanswered ping is the client's {@link #lag}: a client more than {@link #MAX_LAG_MS} behind
 * is sent nothing new (so it never gets further behind than that), and live data goes only to a client less
 * than {@link #LIVE_LAG_MS} behind (its buckets conflate meanwhile: what it reads is never stale). A ping left
 * unanswered for {@link #STALL_MS} cuts the client off: the TCP connection is reset. A graceful close cannot
 * help then, as its close frame waits behind the very bytes that do not move, and Vert.x starts its closing
 * timeout only once that frame is written.
 */
final class Outbound {
  static final int QUEUE_BYTES = 256 * 1024;
  static final long STALL_MS = 10_000;
  static final long PING_MS = 100;
  static final long IDLE_PING_MS = 1000;
  static final long MAX_LAG_MS = 1000;
  static final long LIVE_LAG_MS = 150;
  /** How long a graceful close may take before the connection is cut. */
  static final long CLOSE_GRACE_MS = 1000;
  private static final int MAX_PINGS = (int) (STALL_MS / PING_MS) + 2;
  private final ServerWebSocket ws;
  private long queued;        // bytes handed to the socket, not yet on the network (text: chars; the JSON is ASCII but for names)
  private Runnable onRoom = () -> { };
  private boolean writing;    // inside send: a write completing at once must not call back into the session
  private final long[] pings = new long[MAX_PINGS];     // unanswered pings' payloads, oldest first (a ring)
  private final long[] pingedAt = new long[MAX_PINGS];
  private int oldest;
  private int unanswered;
  private long lastPing;
  private boolean sentSincePing;
  private long now;           // the clock at the last watch
  private long closingAt;     // 0 while open
  private boolean cut;

  Outbound(ServerWebSocket ws) {
    this.ws = ws;
    this.now = System.currentTimeMillis();
    this.lastPing = now;
    ws.pongHandler(this::pong);
  }

  /** Pongs come in the order of their pings: one answers it and every ping before it. */
  private void pong(Buffer payload) {
    if (payload.length() != 8) return;
    long p = payload.getLong(0);
    for (int k = 0; k < unanswered; k++) {
      if (pings[(oldest + k) % MAX_PINGS] == p) {
        oldest = (oldest + k + 1) % MAX_PINGS;
        unanswered -= k + 1;
        return;
      }
    }   // unsolicited pongs prove nothing
  }

  /** How far behind the client reads: the age of its oldest unanswered ping, 0 when it has answered all. */
  long lag() {
    return unanswered == 0 ? 0 : now - pingedAt[oldest];
  }

  /** Whether a message may be written now. */
  boolean room() {
    return queued < QUEUE_BYTES && lag() < MAX_LAG_MS && closingAt == 0 && !cut && !ws.isClosed();
  }

  /** Whether live data may be written now: there is room, and the client reads close behind. */
  boolean fresh() {
    return room() && lag() < LIVE_LAG_MS;
  }

  /** {@code r} runs on the event loop each time a write brings the queue from full back under its bound. */
  void onRoom(Runnable r) {
    onRoom = r;
  }

  /** Writes {@code text} if there is room; false (nothing written) otherwise. */
  boolean send(String text) {
    if (!room()) return false;
    // completes on this event loop once written to the network, or failed when the connection goes
    return sent(text.length(), ws.writeTextMessage(text));
  }

  /** Writes {@code bytes} as one binary message if there is room; false (nothing written) otherwise. */
  boolean send(Buffer bytes) {
    if (!room()) return false;
    return sent(bytes.length(), ws.writeBinaryMessage(bytes));
  }

  private boolean sent(int n, Future<Void> written) {
    queued += n;
    sentSincePing = true;
    writing = true;
    written.onComplete(ar -> {
      boolean full = queued >= QUEUE_BYTES;
      queued -= n;
      // not from within a send (a write can complete at once): the session is in the middle of sending then
      if (full && queued < QUEUE_BYTES && ar.succeeded() && !writing) onRoom.run();
    });
    writing = false;
    return true;
  }

  /** Closes gracefully with {@code status}; {@link #watch} cuts the connection if that takes too long. */
  Future<Void> close(short status, String reason, long at) {
    if (closingAt == 0) closingAt = at;
    return ws.isClosed() ? Future.succeededFuture() : ws.close(status, reason);
  }

  /**
   * Called every tick: pings, and cuts off a client that left a ping unanswered for {@link #STALL_MS}, or
   * whose close did not complete in {@link #CLOSE_GRACE_MS}. True when the session is closing and should send
   * nothing more.
   */
  boolean watch(long at) {
    now = at;
    if (cut || ws.isClosed()) return true;
    if (closingAt > 0) {
      if (now - closingAt >= CLOSE_GRACE_MS) cut();
      return true;
    }
    if (lag() >= STALL_MS) {
      cut();
      return true;
    }
    if (unanswered < MAX_PINGS && now - lastPing >= (sentSincePing ? PING_MS : IDLE_PING_MS)) {
      long p = ThreadLocalRandom.current().nextLong();
      int slot = (oldest + unanswered) % MAX_PINGS;
      pings[slot] = p;
      pingedAt[slot] = now;
      unanswered++;
      lastPing = now;
      sentSincePing = false;
      ws.writePing(Buffer.buffer(8).appendLong(p));
    }
    return false;
  }

  /** Resets the connection: the kernel drops the unsent bytes too, instead of holding them for minutes. */
  private void cut() {
    cut = true;
    ChannelHandlerContext ctx = ((WebSocketInternal) ws).channelHandlerContext();
    ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
    ctx.close();   // from Vert.x's own handler down: its close, which would wait for the close frame, is skipped
  }
}
