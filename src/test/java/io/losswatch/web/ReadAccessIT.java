package io.losswatch.web;

import static io.losswatch.web.TestServer.runState;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import io.vertx.core.http.UpgradeRejectedException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * With {@code --token}, reading needs it too: every read route, {@code /metrics} and the WebSocket's subscriptions
 * (the token in the handshake's header, or as the first message); {@code /health} and the page's files stay open.
 * {@code --public-read} opens reads again, never changes.
 */
class ReadAccessIT {
  private static final String TOKEN = "s3cret-read";
  private static final String SECRET_CONFIG = "{\"source\":\"external\",\"name\":\"private\",\"config\":{\"api_key\":"
      + "\"sk-do-not-leak\",\"data\":\"/home/me/private\"}}";

  private static List<String> reads(String id) {
    return List.of("/api/runs", "/api/runs/" + id, "/api/runs/" + id + "/steps", "/api/runs/" + id + "/steps.csv",
        "/api/runs/" + id + "/steps?max_points=10", "/api/schema", "/api/sweeps", "/metrics");
  }

  /** The close code the server ends {@code c} with (waiting for it). */
  private static short closedWith(TestServer.Client c) throws Exception {
    CompletableFuture<Short> code = new CompletableFuture<>();
    try {
      c.ws.closeHandler(v -> code.complete(c.ws.closeStatusCode()));
    } catch (IllegalStateException closedAlready) {   // Vert.x refuses a handler on a closed socket
      return c.ws.closeStatusCode();
    }
    if (c.ws.isClosed()) return c.ws.closeStatusCode();
    return code.get(io.losswatch.Patience.seconds(20), TimeUnit.SECONDS);
  }

  @Test
  void withATokenEveryReadNeedsItButHealthAndThePage() throws Exception {
    try (TestServer s = new TestServer(ServerConfig.defaults().forTest(0).withToken(TOKEN))) {
      s.bearer = TOKEN;
      String id = s.create(SECRET_CONFIG);
      assertEquals(200, s.post("/api/runs/" + id + "/steps", "{\"step\":[1,2],\"loss\":[2,1]}").status());
      for (String path : reads(id)) assertEquals(200, s.get(path).status(), path + " with the token");

      s.bearer = null;
      for (String path : reads(id)) {
        TestServer.Response r = s.get(path);
        assertEquals(401, r.status(), path + " without a token: " + r.body());
        assertFalse(r.body().contains("sk-do-not-leak") || r.body().contains(id + "\",\"name\""), path + ": " + r.body());
        assertEquals("this server needs a bearer token to read anything (Authorization: Bearer <token>)",
            r.json().get("error"), path);
      }
      s.bearer = "wrong";
      for (String path : reads(id)) assertEquals(401, s.get(path).status(), path + " with a wrong token");
      s.bearer = null;
      assertEquals(200, s.get("/health").status(), "/health stays open");
      for (String page : List.of("/", "/js/main.mjs", "/app.css")) assertEquals(200, s.get(page).status(), page);
    }
  }

  @Test
  void aWebSocketShowsTheTokenInItsHandshakeOrAsItsFirstMessage() throws Exception {
    try (TestServer s = new TestServer(ServerConfig.defaults().forTest(0).withToken(TOKEN))) {
      s.bearer = TOKEN;
      String id = s.create(SECRET_CONFIG);
      s.bearer = null;

      // no token: a subscription closes the connection (4401), before anything of a run is sent
      TestServer.Client none = s.client();
      none.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
      assertEquals(WsRequests.UNAUTHORIZED, closedWith(none));
      assertTrue(none.inbox.stream().noneMatch(m -> m.contains(id)), "nothing of the run: " + none.inbox);

      // a wrong token as the first message: closed too
      TestServer.Client wrong = s.client();
      wrong.send("{\"op\":\"auth\",\"token\":\"nope\"}");
      assertEquals(WsRequests.UNAUTHORIZED, closedWith(wrong));

      // the right one (what the page does): acknowledged, then subscriptions work
      try (TestServer.Client page = s.client()) {
        page.send("{\"op\":\"auth\",\"token\":\"" + TOKEN + "\"}");
        page.next(m -> "auth".equals(m.get("type")) && Boolean.TRUE.equals(m.get("ok")), 10);
        page.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
        page.next(runState(id, "running"), 10);
      }

      // a program sends the header: subscriptions work at once; a wrong header is refused at the handshake
      try (TestServer.Client program = s.new Client("Bearer " + TOKEN)) {
        program.send("{\"op\":\"subscribe\",\"runs\":[\"" + id + "\"],\"mode\":\"all\"}");
        program.next(runState(id, "running"), 10);
      }
      try {
        s.new Client("Bearer nope").close();
        throw new AssertionError("a wrong token in the handshake was let in");
      } catch (ExecutionException e) {
        assertTrue(e.getCause() instanceof UpgradeRejectedException, String.valueOf(e.getCause()));
        assertEquals(401, ((UpgradeRejectedException) e.getCause()).getStatus());
      }

      // silence: closed once the time to show the token is up
      TestServer.Client silent = s.client();
      long start = System.nanoTime();
      assertEquals(WsRequests.UNAUTHORIZED, closedWith(silent));
      assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(StreamGateway.AUTH_MS - 1000),
          "not before its time");
    }
  }

  @Test
  void publicReadOpensReadsNotChanges() throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).withToken(TOKEN).toBuilder().publicRead(true).build();
    try (TestServer s = new TestServer(config)) {
      assertEquals(401, s.post("/api/runs", SECRET_CONFIG).status(), "changes still need the token");
      s.bearer = TOKEN;
      String id = s.create(SECRET_CONFIG);
      s.bearer = null;
      for (String path : reads(id)) assertEquals(200, s.get(path).status(), path);
      try (TestServer.Client c = s.client()) {
        c.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
        c.next(runState(id, "running"), 10);
      }
      assertEquals(401, s.post("/api/runs/" + id + "/steps", "{\"step\":[1],\"loss\":[1]}").status());
    }
  }

  @Test
  void withoutATokenEverythingIsOpenAsBefore() throws Exception {
    try (TestServer s = new TestServer()) {
      String id = s.create(SECRET_CONFIG);
      for (String path : reads(id)) assertEquals(200, s.get(path).status(), path);
      try (TestServer.Client c = s.client()) {
        c.send("{\"op\":\"auth\",\"token\":\"anything\"}");   // the page sends a token it kept: harmless
        c.next(m -> "auth".equals(m.get("type")), 10);
        c.send("{\"op\":\"subscribe\",\"runs\":[\"*\"],\"mode\":\"live\"}");
        c.next(runState(id, "running"), 10);
      }
      Map<String, Object> run = s.get("/api/runs/" + id).json();
      assertEquals("private", run.get("name"));
    }
  }
}
