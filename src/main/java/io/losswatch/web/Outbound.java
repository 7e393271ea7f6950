package io.losswatch.web;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One client's outbound side: a queue bounded in bytes, a progress watch, and a close that always ends.
 *
 * <p>The queue counts what was handed to the socket and is not yet on the network (Vert.x's queue and Netty's
 * buffer together). {@link #send} writes only while fewer than {@link #QUEUE_BYTES} wait, so the queue never
 * exceeds its bound by more than one message, whatever the message. ({@code writeQueueFull()} would not do:
 * it turns true only once 16 messages wait behind Netty's buffer, whatever their size.)
 *
 * <p>Progress is the client reading: a ping with a random payload goes out every {@link #PING_MS} behind
 * whatever was sent before it, and its pong proves the client read all that. (The bytes leaving the process
 * prove nothing: the kernels' buffers take megabytes from a client that never reads.) A client that leaves a
 * ping unanswered for {@link #STALL_MS}, or whose queue does not move for that long, is cut off: the TCP
 * connection is reset. A graceful close cannot help then, as its close frame waits behind the very bytes that
 * do not move, and Vert.x starts its closing timeout only once that frame is written: the connection would
 * stay open, and the session with it, for as long as the client wished.
 */
final class Outbound {
  static final int QUEUE_BYTES = 64 * 1024;
  static final long STALL_MS = 10_000;
  static final long PING_MS = 1000;
  /** How long a graceful close may take before the connection is cut. */
  static final long CLOSE_GRACE_MS = 1000;
  private final ServerWebSocket ws;
  private long queued;        // chars handed to the socket, not yet on the network (the JSON is ASCII but for names)
  private long written;       // messages that reached the network
  private long seenWritten;
  private long movedAt;       // the last tick at which the queue was empty or had moved
  private long ping;          // the payload of the ping awaiting its pong, 0 when none
  private long pingAt;        // when it (or the last one) was sent
  private long closingAt;     // 0 while open
  private boolean cut;

  Outbound(ServerWebSocket ws) {
    this.ws = ws;
    ws.pongHandler(this::pong);
  }

  private void pong(Buffer payload) {
    if (payload.length() == 8 && payload.getLong(0) == ping) ping = 0;   // unsolicited pongs prove nothing
  }

  /** Whether a message may be written now. */
  boolean room() {
    return queued < QUEUE_BYTES && closingAt == 0 && !cut && !ws.isClosed();
  }

  /** Writes {@code text} if there is room; false (nothing written) otherwise. */
  boolean send(String text) {
    if (!room()) return false;
    int n = text.length();
    queued += n;
    // completes on this event loop once written to the network, or failed when the connection goes
    ws.writeTextMessage(text).onComplete(ar -> {
      queued -= n;
      written++;
    });
    return true;
  }

  /** Closes gracefully with {@code status}; {@link #watch} cuts the connection if that takes too long. */
  Future<Void> close(short status, String reason, long now) {
    if (closingAt == 0) closingAt = now;
    return ws.isClosed() ? Future.succeededFuture() : ws.close(status, reason);
  }

  /**
   * Called every tick: pings, and cuts off a client that made no progress for {@link #STALL_MS}, or whose close
   * did not complete in {@link #CLOSE_GRACE_MS}. True when the session is closing and should send nothing more.
   */
  boolean watch(long now) {
    if (cut || ws.isClosed()) return true;
    if (closingAt > 0) {
      if (now - closingAt >= CLOSE_GRACE_MS) cut();
      return true;
    }
    if (ping == 0 && now - pingAt >= PING_MS) {
      ping = ThreadLocalRandom.current().nextLong() | 1;
      pingAt = now;
      ws.writePing(Buffer.buffer(8).appendLong(ping));
    }
    if (queued <= 0 || written != seenWritten) {
      seenWritten = written;
      movedAt = now;
    }
    if (now - movedAt < STALL_MS && (ping == 0 || now - pingAt < STALL_MS)) return false;
    cut();
    return true;
  }

  /** Resets the connection: the kernel drops the unsent bytes too, instead of holding them for minutes. */
  private void cut() {
    cut = true;
    ChannelHandlerContext ctx = ((WebSocketInternal) ws).channelHandlerContext();
    ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
    ctx.close();   // from Vert.x's own handler down: its close, which would wait for the close frame, is skipped
  }
}
