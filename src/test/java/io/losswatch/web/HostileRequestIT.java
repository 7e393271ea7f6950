package io.losswatch.web;

import static io.losswatch.web.TestServer.num;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Requests a hostile page, network neighbour or client sends, against the real server: cross-site simple
 * requests, DNS rebinding, oversized queries and specs, malformed text, racing creates.
 */
class HostileRequestIT extends SharedServer {
  private static final String EVIL = "http://evil.example";
  private static final String PACED = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},"
      + "\"steps\":100000,\"steps_per_second\":50}";

  /** A request with exactly these headers ("Name: value"), over the JDK client. */
  private TestServer.Response send(String method, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    for (String h : headers) b.header(h.substring(0, h.indexOf(':')), h.substring(h.indexOf(':') + 1).trim());
    HttpResponse<String> r = server.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new TestServer.Response(r.statusCode(), r.body(), r.headers().firstValue("content-type").orElse(""));
  }

  private static void refused(TestServer.Response r, int status, String field) {
    assertEquals(status, r.status(), r.body());
    assertTrue(r.contentType().startsWith("application/json"), r.contentType());
    assertEquals(field, r.json().get("field"), r.body());
    assertFalse(r.body().contains("Exception") || r.body().contains(".java:"), r.body());
  }

  private int runCount() throws Exception {
    return server.get("/api/runs").list().size();
  }

  private void assertUntouched(String id) throws Exception {
    Map<String, Object> s = server.get("/api/runs/" + id).json();
    assertEquals("running", s.get("state"));
    assertEquals(List.of(), s.get("lr_changes"), "no lr change");
    if (s.get("lr") != null) assertEquals(0.1, num(s.get("lr")));
  }

  @Test
  void crossSiteSimpleRequestsChangeNothing() throws Exception {
    String id = server.create(PACED);
    int runs = runCount();
    // what a text/plain form or a no-cors fetch on another site sends: no preflight, a JSON-looking body
    refused(send("POST", "/api/runs", PACED, "Content-Type: text/plain", "Origin: " + EVIL), 403, "Origin");
    refused(send("POST", "/api/runs/" + id + "/lr", "{\"lr\":1.5}", "Content-Type: text/plain", "Origin: " + EVIL), 403, "Origin");
    refused(send("POST", "/api/runs/" + id + "/pause", "", "Content-Type: text/plain", "Origin: " + EVIL), 403, "Origin");
    refused(send("DELETE", "/api/runs/" + id, null, "Origin: " + EVIL), 403, "Origin");
    // the same without an Origin (an old browser, a privacy extension): the type alone refuses it
    TestServer.Response plain = send("POST", "/api/runs", PACED, "Content-Type: text/plain");
    refused(plain, 403, "Content-Type");
    assertTrue(((String) plain.json().get("error")).contains("application/json"), plain.body());
    refused(send("POST", "/api/runs/" + id + "/lr", "{\"lr\":1.5}", "Content-Type: text/plain;charset=UTF-8"), 403, "Content-Type");
    refused(send("POST", "/api/runs/" + id + "/lr", "lr=1.5", "Content-Type: application/x-www-form-urlencoded"), 403, "Content-Type");
    refused(send("POST", "/api/runs/" + id + "/lr", "{\"lr\":1.5}", "Content-Type: multipart/form-data; boundary=x"), 403, "Content-Type");
    refused(send("POST", "/api/runs/" + id + "/pause", ""), 403, "Content-Type");
    refused(send("POST", "/api/runs/" + id + "/stop", null, "Content-Type: application/jsonx"), 403, "Content-Type");
    // and JSON from another site's page (or a sandboxed one: Origin null)
    refused(send("POST", "/api/runs/" + id + "/lr", "{\"lr\":1.5}", "Content-Type: application/json", "Origin: " + EVIL), 403, "Origin");
    refused(send("POST", "/api/runs/" + id + "/pause", "{}", "Content-Type: application/json", "Origin: null"), 403, "Origin");
    assertEquals(runs, runCount(), "no run was created");
    assertUntouched(id);
    assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
  }

  @Test
  void changesTypedJsonFromThisServersPagesOrProgramsGoThrough() throws Exception {
    String id = server.create(PACED);
    String own = "http://127.0.0.1:" + server.port();
    assertEquals(200, send("POST", "/api/runs/" + id + "/pause", "{}", "Content-Type: application/json", "Origin: " + own).status());
    assertEquals(200, send("POST", "/api/runs/" + id + "/resume", null, "Content-Type: Application/JSON; charset=utf-8",
        "Origin: http://localhost:3000").status());
    assertEquals(200, send("POST", "/api/runs/" + id + "/lr", "{\"lr\":0.2}", "Content-Type: application/json").status(),
        "a program sends no Origin");
    TestServer.Response args = send("POST", "/api/runs/" + id + "/stop", "{\"now\":true}", "Content-Type: application/json");
    assertEquals(400, args.status(), "a command takes no arguments");
    assertTrue(((String) args.json().get("error")).contains("takes no arguments"), args.body());
    assertEquals(204, send("DELETE", "/api/runs/" + id, null, "Content-Type: application/json", "Origin: http://[::1]:8080").status());
  }

  @Test
  void foreignHostsAreRefusedOnEveryRouteAndTheWebSocket() throws Exception {
    int runs = runCount();
    String json = "Content-Type: application/json";
    for (String host : List.of("evil.example", "evil.example:" + server.port(), "127.evil.example", "localhost.evil.example",
        "10.0.0.1")) {
      String h = "Host: " + host;
      TestServer.Response r = server.raw("GET", "/api/runs", List.of(h), null);
      refused(r, 403, "Host");
      assertTrue(((String) r.json().get("error")).startsWith("Host \"" + host.replaceFirst(":\\d+$", "") + "\" is not allowed"), r.body());
      assertTrue(((String) r.json().get("error")).contains("--allow-host"), r.body());
      refused(server.raw("POST", "/api/runs", List.of(h, json), PACED.getBytes(StandardCharsets.UTF_8)), 403, "Host");
      refused(server.raw("GET", "/metrics", List.of(h), null), 403, "Host");
      refused(server.raw("GET", "/health", List.of(h), null), 403, "Host");
      refused(server.raw("GET", "/", List.of(h), null), 403, "Host");
      refused(server.raw("GET", "/js/main.mjs", List.of(h), null), 403, "Host");
      assertEquals(403, server.handshake(List.of(h)), host);
    }
    assertEquals(runs, runCount(), "no run was created");
  }

  @Test
  void loopbackHostsAreServed() throws Exception {
    int port = server.port();
    for (String host : List.of("localhost:" + port, "LOCALHOST", "localhost.:" + port, "127.0.0.1:" + port, "127.0.0.2",
        "[::1]:" + port, "[::1]")) {
      assertEquals(200, server.raw("GET", "/health", List.of("Host: " + host), null).status(), host);
      assertEquals(200, server.raw("GET", "/metrics", List.of("Host: " + host), null).status(), host);
      assertEquals(101, server.handshake(List.of("Host: " + host)), host);
    }
    TestServer.Response created = server.raw("POST", "/api/runs", List.of("Host: localhost:" + port,
        "Content-Type: application/json", "Origin: http://localhost:" + port), PACED.getBytes(StandardCharsets.UTF_8));
    assertEquals(201, created.status(), created.body());
    assertEquals(204, server.request("DELETE", "/api/runs/" + created.json().get("id"), null).status());
  }

  @Test
  void aRequestNeedsExactlyOneValidHost() throws Exception {
    refused(server.raw("GET", "/api/runs", List.of(), null), 400, "Host");
    refused(server.raw("GET", "/metrics", List.of("Host: "), null), 400, "Host");
    refused(server.raw("GET", "/api/runs", List.of("Host: localhost", "Host: 127.0.0.1"), null), 400, "Host");
    refused(server.raw("GET", "/api/runs", List.of("Host: localhost", "Host: evil.example"), null), 403, "Host");
    refused(server.raw("GET", "/api/runs", List.of("Host: evil.example:http"), null), 400, "Host");
    assertEquals(400, server.handshake(List.of()));
  }

  @Test
  void allowHostAndAllowOriginAddTheirNames() throws Exception {
    ServerConfig config = ServerConfig.defaults().forTest(0).toBuilder().allowHost("losswatch")
        .allowOrigin("https://dash.example").build();
    try (TestServer other = new TestServer(config)) {
      assertEquals(200, other.raw("GET", "/metrics", List.of("Host: losswatch:8080"), null).status(), "Prometheus in compose");
      assertEquals(101, other.handshake(List.of("Host: losswatch")));
      refused(other.raw("GET", "/metrics", List.of("Host: losswatch.example"), null), 403, "Host");
      TestServer.Response r = other.raw("POST", "/api/runs", List.of("Host: localhost", "Content-Type: application/json",
          "Origin: https://dash.example"), PACED.getBytes(StandardCharsets.UTF_8));
      assertEquals(201, r.status(), r.body());
      refused(other.raw("POST", "/api/runs", List.of("Host: localhost", "Content-Type: application/json",
          "Origin: https://dash.example.evil"), PACED.getBytes(StandardCharsets.UTF_8)), 403, "Origin");
    }
  }

  @Test
  void maxPointsIsCappedAndTheServerKeepsServing() throws Exception {
    String id = server.create("{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":500}");
    for (String bad : List.of("2147483647", "8000000", "10001", "99999999999999999999")) {
      TestServer.Response r = server.get("/api/runs/" + id + "/steps?max_points=" + bad);
      refused(r, 400, "max_points");
      assertEquals("max_points: at most 10000, got " + bad, r.json().get("error"));
    }
    assertEquals(200, server.get("/api/runs/" + id + "/steps?max_points=10000").status());
    refused(server.get("/api/runs/" + id + "/steps?from=9223372036854775807&to=9223372036854775808"), 400, "to");
    assertEquals(200, server.get("/api/runs/" + id + "/steps?from=9223372036854775807").status());
    assertEquals(200, server.get("/health").status());
    assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
  }

  @Test
  void mlpSizesAndOneStepsCostAreBounded() throws Exception {
    String mlp = "{\"problem\":{\"type\":\"mlp\",%s},\"optimizer\":\"adam\",\"steps\":100000}";
    for (String hidden : List.of("100000", "40000000", "2147483647", "1e12")) {
      TestServer.Response r = server.post("/api/runs", mlp.formatted("\"hidden\":" + hidden));
      refused(r, 400, "problem.hidden");
      assertTrue(((String) r.json().get("error")).startsWith("problem.hidden: at most 4096, got "), r.body());
    }
    refused(server.post("/api/runs", mlp.formatted("\"batch_size\":2000000")), 400, "problem.batch_size");
    // within the caps, yet one full-batch step would hold an event loop for about a second
    TestServer.Response heavy = server.post("/api/runs", mlp.formatted("\"hidden\":4096"));
    refused(heavy, 400, "problem");
    String e = (String) heavy.json().get("error");
    assertTrue(e.contains("multiply-adds") && e.contains("limit of 20000000") && e.contains("problem.hidden or problem.batch_size"), e);
    // hidden 20,000 took seconds a step; six such runs starved /health for 30 s: now none starts
    for (int i = 0; i < 6; i++) refused(server.post("/api/runs", mlp.formatted("\"hidden\":20000")), 400, "problem.hidden");
    assertEquals(200, server.get("/health").status());
    // where the bound falls (cold steps run far longer than these, so they are not started here)
    assertTrue(io.losswatch.core.RunSpec.parse(mlp.formatted("\"hidden\":90")).stepCost() <= RestApi.MAX_STEP_COST);
    assertTrue(io.losswatch.core.RunSpec.parse(mlp.formatted("\"hidden\":4096,\"batch_size\":16")).stepCost()
        <= RestApi.MAX_STEP_COST);
    refused(server.post("/api/runs", mlp.formatted("\"hidden\":100")), 400, "problem");
    refused(server.post("/api/runs", mlp.formatted("\"hidden\":4096,\"batch_size\":64")), 400, "problem");
    String small = server.create(mlp.formatted("\"hidden\":8,\"batch_size\":4"));
    assertEquals(204, server.request("DELETE", "/api/runs/" + small, null).status());
  }

  @Test
  void namesAndSpecsAreBounded() throws Exception {
    String named = "{\"name\":\"%s\",\"problem\":\"quadratic\",\"optimizer\":\"adam\",\"steps\":10}";
    TestServer.Response r = server.post("/api/runs", named.formatted("n".repeat(257)));
    refused(r, 400, "name");
    assertEquals("name: at most 256 characters, got 257", r.json().get("error"));
    refused(server.post("/api/runs", named.formatted("n".repeat(60_000))), 400, "name");
    String id = server.create(named.formatted("n".repeat(256)));
    assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
    String big = "{\"problem\":{\"type\":\"quadratic\",\"x0\":[" + "1.5,".repeat(1300) + "1]},\"optimizer\":\"adam\",\"steps\":10}";
    r = server.post("/api/runs", big);
    assertEquals(400, r.status(), r.body());
    assertTrue(((String) r.json().get("error")).startsWith("a run spec must be at most 4096 bytes"), r.body());
  }

  @Test
  void loneSurrogatesAndBadEscapesAreRefused() throws Exception {
    String named = "{\"name\":\"%s\",\"problem\":\"quadratic\",\"optimizer\":\"adam\",\"steps\":10}";
    int runs = runCount();
    for (String name : List.of("\\uD800", "a\\uDC00", "\\uDE00\\uD83D", "\\u+041", "\\u-041", "\\u04")) {
      TestServer.Response r = server.post("/api/runs", named.formatted(name));
      assertEquals(400, r.status(), name + ": " + r.body());
      assertTrue(((String) r.json().get("error")).startsWith("invalid JSON: "), r.body());
    }
    // a raw lone surrogate: its three bytes as CESU-8/WTF-8 would write it, which UTF-8 forbids
    byte[] prefix = "{\"name\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] suffix = "\",\"problem\":\"quadratic\",\"optimizer\":\"adam\",\"steps\":10}".getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[prefix.length + 3 + suffix.length];
    System.arraycopy(prefix, 0, body, 0, prefix.length);
    body[prefix.length] = (byte) 0xED;
    body[prefix.length + 1] = (byte) 0xA0;
    body[prefix.length + 2] = (byte) 0x80;
    System.arraycopy(suffix, 0, body, prefix.length + 3, suffix.length);
    TestServer.Response raw = server.raw("POST", "/api/runs", List.of("Host: 127.0.0.1", "Content-Type: application/json"), body);
    assertEquals(400, raw.status(), raw.body());
    assertEquals("the body is not valid UTF-8 at byte 9", raw.json().get("error"));
    assertEquals(runs, runCount());
    String id = server.create(named.formatted("\\uD83D\\uDE00 ok"));
    assertEquals("\uD83D\uDE00 ok", server.get("/api/runs/" + id).json().get("name"));
    assertEquals(204, server.request("DELETE", "/api/runs/" + id, null).status());
  }

  @Test
  void theRunCapHoldsUnderConcurrentCreates() throws Exception {
    try (TestServer capped = new TestServer(ServerConfig.defaults().forTest(0).withLimits(5, 1_000_000, 100))) {
      List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        all.add(capped.http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + capped.port() + "/api/runs"))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(PACED)).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      int created = 0;
      int refusedCount = 0;
      for (CompletableFuture<HttpResponse<String>> f : all) {
        HttpResponse<String> r = f.get();
        if (r.statusCode() == 201) created++;
        else if (r.statusCode() == 429 && r.body().contains("too many runs: at most 5")) refusedCount++;
      }
      assertEquals(5, created);
      assertEquals(35, refusedCount);
      assertEquals(5, capped.get("/api/runs").list().size());
    }
  }
}
