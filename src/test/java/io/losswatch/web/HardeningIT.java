package io.losswatch.web;

import static io.losswatch.web.TestServer.runState;
import static io.losswatch.web.TestServer.type;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.cli.ServeOptions;
import io.losswatch.core.config.SpecException;
import io.losswatch.server.ServerConfig;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a stranger on the network can and cannot do. */
class HardeningIT {
  private static final String SPEC = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.01},"
      + "\"steps\":100000,\"steps_per_second\":50}";

  private static int rejectedStatus(TestServer server, String origin) throws Exception {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.port()).setURI("/ws");
    if (origin != null) o.addHeader("Origin", origin);
    else o.setAllowOriginHeader(false);
    try {
      WebSocket ws = TestServer.await(server.wsClient.connect(o));
      TestServer.await(ws.close());
      return 101;
    } catch (ExecutionException e) {
      assertTrue(e.getCause() instanceof UpgradeRejectedException, String.valueOf(e.getCause()));
      return ((UpgradeRejectedException) e.getCause()).getStatus();
    }
  }

  @Test
  void aBurstOfClientsNeverPassesTheCap() throws Exception {
    try (TestServer server = new TestServer(ServerConfig.defaults().forTest(0).withLimits(2, 1000, 3))) {
      // 40 handshakes at once: before a place was taken at the handshake, all passed the check before any was counted
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(server.port()).setURI("/ws");
      java.util.List<io.vertx.core.Future<WebSocket>> tries = new java.util.ArrayList<>();
      for (int i = 0; i < 40; i++) tries.add(server.wsClient.connect(o));
      TestServer.await(io.vertx.core.Future.join(tries).otherwiseEmpty());
      java.util.List<WebSocket> open = tries.stream().filter(io.vertx.core.Future::succeeded).map(io.vertx.core.Future::result).toList();
      for (var t : tries) {
        if (t.failed()) assertEquals(503, ((UpgradeRejectedException) t.cause()).getStatus(), String.valueOf(t.cause()));
      }
      assertEquals(3, open.size(), "at most 3 clients, and 3 get in");
      for (WebSocket ws : open) TestServer.await(ws.close());
      MetricsIT.waitUntil(() -> server.server.meters().wsClients().get() == 0, "their places are free again");
      assertEquals(101, rejectedStatus(server, null));
    }
  }

  @Test
  void webSocketHandshakesCheckTheOrigin() throws Exception {
    try (TestServer server = new TestServer()) {
      assertEquals(403, rejectedStatus(server, "http://evil.example"));
      assertEquals(403, rejectedStatus(server, "https://localhost.evil.example"));
      assertEquals(101, rejectedStatus(server, "http://localhost:3000"));
      assertEquals(101, rejectedStatus(server, "http://127.0.0.1:" + server.port()));
      assertEquals(101, rejectedStatus(server, null), "a program without an Origin header");
    }
  }

  @Test
  void changesNeedTheToken() throws Exception {
    try (TestServer server = new TestServer(ServerConfig.defaults().forTest(0).withToken("s3cret"))) {
      TestServer.Response r = server.post("/api/runs", SPEC);
      assertEquals(401, r.status());
      assertTrue(((String) r.json().get("error")).contains("bearer token"));
      var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + "/api/runs"))
          .header("Authorization", "Bearer wrong").header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(SPEC)).build();
      assertEquals(401, server.http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
      req = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + "/api/runs"))
          .header("Authorization", "Bearer s3cret").header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(SPEC)).build();
      var created = server.http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(201, created.statusCode());
      assertEquals(401, server.get("/api/runs").status(), "reading needs the token too (ReadAccessIT)");
      assertEquals(401, server.request("DELETE", "/api/runs/whatever", null).status());
    }
  }

  @Test
  void anExposedHostNeedsATokenOrInsecure() {
    SpecException e = assertThrows(SpecException.class, () -> ServeOptions.parse(new String[] {"--host", "0.0.0.0"}, null));
    assertTrue(e.getMessage().contains("--token"), e.getMessage());
    assertTrue(ServeOptions.parse(new String[] {"--host", "0.0.0.0", "--insecure"}, null).insecure());
    assertEquals("t", ServeOptions.parse(new String[] {"--host", "0.0.0.0"}, "t").token(), "LOSSWATCH_TOKEN");
    assertEquals("127.0.0.1", ServeOptions.parse(new String[0], null).host());
  }

  @Test
  void inboundLimits() throws Exception {
    try (TestServer server = new TestServer(ServerConfig.defaults().forTest(0).withLimits(2, 1000, 3))) {
      // a message over 4 KiB closes the connection with 1009
      TestServer.Client big = server.client();
      CompletableFuture<Short> code = new CompletableFuture<>();
      big.ws.closeHandler(v -> code.complete(big.ws.closeStatusCode()));
      big.send("{\"op\":\"subscribe\",\"runs\":[\"" + "x".repeat(5000) + "\"]}");
      assertEquals((short) 1009, code.get(10, TimeUnit.SECONDS));

      // more than 100 messages a minute are refused, and the connection stays
      try (TestServer.Client chatty = server.client()) {
        for (int i = 0; i < 101; i++) chatty.send("{\"op\":\"unsubscribe\",\"runs\":[\"r" + i + "\"]}");
        Map<String, Object> m = chatty.next(type("error"), 10);
        assertTrue(((String) m.get("message")).contains("too many messages"), m.toString());
        assertFalse(chatty.ws.isClosed());

          // caps on clients, runs and steps (the 1009 one is gone: two are open now)
        try (TestServer.Client second = server.client(); TestServer.Client third = server.client()) {
          // a client's place is taken at its handshake, before its 101: a fourth is refused at once
          assertEquals(503, rejectedStatus(server, "http://localhost"), "at most 3 clients");
        }
      }
      TestServer.Response steps = server.post("/api/runs", SPEC.replace("100000", "5000"));
      assertEquals(429, steps.status());
      assertEquals("steps", steps.json().get("field"));
      server.create(SPEC.replace("100000", "1000"));
      server.create(SPEC.replace("100000", "1000"));
      TestServer.Response third = server.post("/api/runs", SPEC.replace("100000", "1000"));
      assertEquals(429, third.status());
      assertTrue(((String) third.json().get("error")).contains("too many runs"));
      assertEquals(200, server.get("/health").status());
    }
  }

  @Test
  void gracefulShutdownFlushesClosesAndComesBack(@TempDir Path data) throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withDataDir(data);
    String id;
    TestServer server = new TestServer(config);
    TestServer.Client c = server.client();
    CompletableFuture<Short> code = new CompletableFuture<>();
    c.ws.closeHandler(v -> code.complete(c.ws.closeStatusCode()));
    c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
    id = server.create("{\"problem\":\"rosenbrock\",\"optimizer\":\"adam\",\"steps\":50000000}");
    c.next(m -> "steps".equals(m.get("type")) && TestServer.nums(m.get("step")).stream().anyMatch(x -> x > 20000), 30);
    server.close();   // what SIGTERM does
    assertEquals((short) 1001, code.get(10, TimeUnit.SECONDS), "clients are told the server is going away");
    try (TestServer again = new TestServer(config)) {
      Map<String, Object> run = again.get("/api/runs/" + id).json();
      assertEquals("interrupted", run.get("state"));
      long steps = (long) TestServer.num(run.get("step"));
      assertTrue(steps >= 20000, "every step taken before the stop was flushed: " + steps);
      Map<String, Object> last = again.get("/api/runs/" + id + "/steps?from=" + steps + "&to=" + steps).json();
      assertEquals((double) steps, TestServer.nums(last.get("step")).get(0));
    }
  }
}
