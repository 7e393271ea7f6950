package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Patience;
import io.losswatch.core.config.Json;
import io.losswatch.server.Server;
import io.losswatch.server.ServerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The real server on a free port, its event loops watched ({@link LoopWatch}: every task over
 * {@link #REPORT_EVENT_LOOP_MS} is reported, and one that computed for half a second fails the test), plain JDK
 * HTTP for REST, and Vert.x's WebSocket client for the stream.
 */
final class TestServer implements AutoCloseable {
  /** Slices take a few ms: a task on an event loop longer than this is reported (and judged by {@link LoopWatch}). */
  static final long REPORT_EVENT_LOOP_MS = 200;

  static {
    // Netty registers a JFR event at its first large allocation in the JVM, which loads JFR's metadata: half a
    // second once, on whichever event loop allocates first. A one-time cost of the JVM, not of the server under test.
    try {
      Class.forName("io.netty.buffer.AllocateChunkEvent", true, TestServer.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      // another Netty: nothing to load ahead
    }
  }

  final Server server;
  // the client's own event loops are not under test: only the server's limit is strict
  final Vertx clientVertx = Vertx.vertx(new VertxOptions().setMaxEventLoopExecuteTime(60).setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS));
  final WebSocketClient wsClient = clientVertx.createWebSocketClient();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final LoopWatch loops;

  TestServer() throws Exception {
    this(ServerConfig.defaults().forTest(0));
  }

  TestServer(ServerConfig config) throws Exception {
    VertxOptions options = new VertxOptions()
        .setMaxEventLoopExecuteTime(REPORT_EVENT_LOOP_MS).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
        .setBlockedThreadCheckInterval(20).setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS);
    server = await(Server.start(config, options));
    loops = new LoopWatch(server.vertx());   // from here on: start-up's one-time class loading is not under test
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(Patience.seconds(30), TimeUnit.SECONDS);
  }

  int port() {
    return server.port();
  }

  record Response(int status, String body, String contentType) {
    @SuppressWarnings("unchecked")
    Map<String, Object> json() {
      return (Map<String, Object>) Json.parse(body);
    }

    @SuppressWarnings("unchecked")
    List<Object> list() {
      return (List<Object>) Json.parse(body);
    }
  }

  /** When set, every request and WebSocket handshake of this test's carries {@code Authorization: Bearer <it>}. */
  volatile String bearer;

  Response request(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
        .timeout(Duration.ofSeconds(10));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    // every change is typed JSON, even without a body, as the server requires
    if (!method.equals("GET") && !method.equals("HEAD")) b.header("Content-Type", "application/json");
    if (bearer != null) b.header("Authorization", "Bearer " + bearer);
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      // a read that reused a connection the server closed as idle (60 s) that instant: asked again, as browsers do
      if (!method.equals("GET") || e instanceof java.net.http.HttpTimeoutException) throw e;
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
    return new Response(r.statusCode(), r.body(), r.headers().firstValue("content-type").orElse(""));
  }

  /**
   * One request over a plain socket, written exactly as given (JDK clients refuse to set Host): the header
   * lines, then Connection: close and the body's Content-Length. Reads the whole answer.
   */
  Response raw(String method, String path, List<String> headers, byte[] body) throws Exception {
    StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
    for (String h : headers) head.append(h).append("\r\n");
    head.append("Connection: close\r\n");
    if (body != null) head.append("Content-Length: ").append(body.length).append("\r\n");
    head.append("\r\n");
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(head.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      if (body != null) s.getOutputStream().write(body);
      s.getOutputStream().flush();
      String text = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, end).split("\r\n");
      String type = "";
      boolean chunked = false;
      for (String l : lines) {
        String lower = l.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("content-type:")) type = l.substring(13).trim();
        if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
      }
      String rest = text.substring(end + 4);
      return new Response(Integer.parseInt(lines[0].split(" ")[1]), chunked ? unchunk(rest) : rest, type);
    }
  }

  private static String unchunk(String s) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (true) {
      int eol = s.indexOf("\r\n", i);
      int n = Integer.parseInt(s.substring(i, eol).trim(), 16);
      if (n == 0) return out.toString();
      out.append(s, eol + 2, eol + 2 + n);   // ASCII bodies only: chunk sizes count bytes
      i = eol + 2 + n + 2;
    }
  }

  /** The status a WebSocket handshake to /ws gets, with these header lines (Host among them, or not). */
  int handshake(List<String> headers) throws Exception {
    List<String> all = new ArrayList<>(headers);
    all.addAll(List.of("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13"));
    StringBuilder head = new StringBuilder("GET /ws HTTP/1.1\r\n");
    for (String h : all) head.append(h).append("\r\n");
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(head.append("\r\n").toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      String status = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
          java.nio.charset.StandardCharsets.ISO_8859_1)).readLine();
      return Integer.parseInt(status.split(" ")[1]);
    }
  }

  Response get(String path) throws Exception {
    return request("GET", path, null);
  }

  Response post(String path, String body) throws Exception {
    return request("POST", path, body);
  }

  /** Creates a run and returns its id. */
  String create(String spec) throws Exception {
    Response r = post("/api/runs", spec);
    assertEquals(201, r.status, r.body);
    return (String) r.json().get("id");
  }

  /** A WebSocket client that queues every message it receives, parsed. */
  final class Client implements AutoCloseable {
    final WebSocket ws;
    final LinkedBlockingQueue<String> inbox = new LinkedBlockingQueue<>();
    private final java.util.ArrayDeque<Map<String, Object>> expanded = new java.util.ArrayDeque<>();

    Client() throws Exception {
      this(bearer == null ? null : "Bearer " + bearer);
    }

    /** A client whose handshake carries this {@code Authorization} header (null: none). */
    Client(String authorization) throws Exception {
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port()).setURI("/ws");
      if (authorization != null) o.addHeader("Authorization", authorization);
      ws = await(wsClient.webSocket()
          .textMessageHandler(inbox::add)   // parsed on the test's thread, not the client's event loop
          .connect(o));
    }

    void send(String json) throws Exception {
      await(ws.writeTextMessage(json));
    }

    /**
     * Subscribes and waits until the server has processed it: a client's messages are handled in order, so
     * the error answering a bogus message sent right after proves the subscription is in place.
     */
    void subscribe(String json) throws Exception {
      send(json);
      send("{\"op\":\"barrier\"}");
      next(m -> "error".equals(m.get("type")) && String.valueOf(m.get("message")).contains("barrier"), 10);
    }

    /**
     * The next message that matches, skipping others; fails after the timeout. A live {@code frame} is read as
     * one {@code steps} message per run it holds (marked {@code "frame": t}), so a test can follow a run's
     * steps in either mode; {@link #nextRaw} sees frames as they come.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> next(Predicate<Map<String, Object>> p, long seconds) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Patience.seconds(seconds));
      while (true) {
        Map<String, Object> m = expanded.poll();
        if (m == null) {
          m = poll(x -> true, end);
          if ("frame".equals(m.get("type"))) {
            for (Object entry : (List<Object>) m.get("runs")) {
              Map<String, Object> steps = new java.util.LinkedHashMap<>((Map<String, Object>) entry);
              steps.put("type", "steps");
              steps.put("frame", m.get("t"));
              expanded.add(steps);
            }
            continue;
          }
        }
        if (p.test(m)) return m;
      }
    }

    /** The next message as sent (frames whole) that matches, skipping others; fails after the timeout. */
    Map<String, Object> nextRaw(Predicate<Map<String, Object>> p, long seconds) throws InterruptedException {
      return poll(p, System.nanoTime() + TimeUnit.SECONDS.toNanos(Patience.seconds(seconds)));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> poll(Predicate<Map<String, Object>> p, long end) throws InterruptedException {
      while (true) {
        long left = end - System.nanoTime();
        String text = left > 0 ? inbox.poll(left, TimeUnit.NANOSECONDS) : null;
        assertTrue(text != null, "timed out waiting for a message");
        Map<String, Object> m = (Map<String, Object>) Json.parse(text);
        if (p.test(m)) return m;
      }
    }

    @Override public void close() throws Exception {
      if (!ws.isClosed()) await(ws.close());
    }
  }

  Client client() throws Exception {
    return new Client();
  }

  static Predicate<Map<String, Object>> type(String type) {
    return m -> type.equals(m.get("type"));
  }

  static Predicate<Map<String, Object>> runState(String run, String state) {
    return m -> "run".equals(m.get("type")) && m.get("run") instanceof Map<?, ?> r
        && run.equals(r.get("id")) && state.equals(r.get("state"));
  }

  /** A double as the server writes it: a number, or "NaN"/"Infinity"/"-Infinity". */
  static double num(Object o) {
    return o instanceof String s ? Double.parseDouble(s) : ((Number) o).doubleValue();
  }

  static List<Double> nums(Object list) {
    List<Double> out = new ArrayList<>();
    for (Object o : (List<?>) list) out.add(num(o));
    return out;
  }

  @Override
  public void close() throws Exception {
    try {
      await(server.close());
      await(clientVertx.close());
    } finally {
      loops.close();
    }
    assertTrue(loops.caused.isEmpty(), "an event loop computed for over " + LoopWatch.CPU_LIMIT_MS + " ms in one task: "
        + loops.caused.subList(0, Math.min(3, loops.caused.size())));
  }
}
