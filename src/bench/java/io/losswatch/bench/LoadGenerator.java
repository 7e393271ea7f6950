package io.losswatch.bench;

import io.losswatch.core.config.Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A WebSocket load generator, run as its own process so its work doesn't share the server's JVM:
 * {@code java -cp losswatch.jar io.losswatch.bench.LoadGenerator <port> <clients> <seconds> <mode> [subscribe|idle]
 * [stalled] [warm-up seconds]}. Each client subscribes to every run ({@code "*"}); for each run in each live
 * frame (or each steps message in all mode) it records the receipt time minus the newest step's timestamp (the
 * step-to-client latency) and minus the oldest one (which adds the wait in the live bucket). {@code stalled} more
 * clients subscribe and then never read. The load runs for the warm-up seconds (default 5 from 15 measured seconds
 * up, else 1) before it is measured. Prints one JSON line of percentiles.
 */
public final class LoadGenerator {
  private LoadGenerator() {
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int clients = Integer.parseInt(args[1]);
    int seconds = Integer.parseInt(args[2]);
    String mode = args[3];
    boolean idle = args.length > 4 && args[4].equals("idle");
    int stalled = args.length > 5 ? Integer.parseInt(args[5]) : 0;
    int warmup = args.length > 6 ? Integer.parseInt(args[6]) : seconds >= 15 ? 5 : 1;
    Vertx vertx = Vertx.vertx();
    WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(clients + stalled + 10)
        .setMaxMessageSize(1 << 22));
    Recorder newest = new Recorder();
    Recorder oldest = new Recorder();
    AtomicLong messages = new AtomicLong();
    List<Future<WebSocket>> connected = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws");
      connected.add(ws.webSocket().textMessageHandler(text -> {
        long now = System.currentTimeMillis();
        if (!text.startsWith("{\"type\":\"steps\"") && !text.startsWith("{\"type\":\"frame\"")) return;
        // every run's "t":[…] column: its first and last step times
        for (int at = text.indexOf("\"t\":["); at >= 0; at = text.indexOf("\"t\":[", at + 5)) {
          int end = text.indexOf(']', at);
          String[] t = text.substring(at + 5, end).split(",");
          newest.add(now - Long.parseLong(t[t.length - 1]));
          oldest.add(now - Long.parseLong(t[0]));
        }
        messages.incrementAndGet();
      }).connect(o).compose(s -> idle ? Future.succeededFuture(s)
          : s.writeTextMessage("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"" + mode + "\",\"max_hz\":20}").map(s)));
      if (i % 200 == 199) Future.join(new ArrayList<>(connected)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    Future.join(new ArrayList<>(connected)).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    List<Future<WebSocket>> stalls = new ArrayList<>();
    for (int i = 0; i < stalled; i++) {   // subscribe, then never read again
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws");
      stalls.add(ws.webSocket().connect(o).compose(s -> s.writeTextMessage(
          "{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"" + mode + "\",\"max_hz\":20}").map(s))
          .onSuccess(WebSocket::pause));
      if (i % 200 == 199) Future.join(new ArrayList<>(stalls)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    if (stalled > 0) {
      Future.join(new ArrayList<>(stalls)).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
      System.err.println("stalled " + stalls.stream().filter(Future::succeeded).count() + " of " + stalled);
    }
    long failed = connected.stream().filter(Future::failed).count();
    System.err.println("connected " + (clients - failed) + " of " + clients);
    // the first seconds are every client's history, the stalled clients' too, and the JIT's warm-up: not measured
    Thread.sleep(warmup * 1000L);
    newest.reset();
    oldest.reset();
    messages.set(0);
    Thread.sleep(seconds * 1000L);
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    out.put("clients", (double) (clients - failed));
    out.put("messages_per_s", (double) messages.get() / seconds);
    out.put("p50_ms", newest.percentile(0.5));
    out.put("p99_ms", newest.percentile(0.99));
    out.put("p50_with_bucket_ms", oldest.percentile(0.5));
    out.put("p99_with_bucket_ms", oldest.percentile(0.99));
    System.out.println(Json.write(out));
    System.out.flush();
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    System.exit(0);
  }

  /** Millisecond latencies, kept whole: a minute of them fits easily. */
  static final class Recorder {
    private long[] values = new long[1 << 16];
    private int n;

    synchronized void add(long v) {
      if (n == values.length) values = Arrays.copyOf(values, n * 2);
      values[n++] = v;
    }

    synchronized void reset() {
      n = 0;
    }

    synchronized double percentile(double q) {
      if (n == 0) return Double.NaN;
      long[] sorted = Arrays.copyOf(values, n);
      Arrays.sort(sorted);
      return sorted[Math.min(n - 1, (int) Math.floor(q * n))];
    }
  }
}
