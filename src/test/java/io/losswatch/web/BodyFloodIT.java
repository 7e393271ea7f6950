package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.server.ServerConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Request bodies against raw sockets, as an attacker sends them: a bad head is refused before its body is read, the
 * bodies being read hold a bounded share of the heap however many connections send them (the others get 503 busy
 * at once), a body that stalls is cut off, and the server answers /health throughout.
 */
class BodyFloodIT {
  private static final int DECLARED = IngestApi.MAX_BODY_BYTES - 1;
  private static final Pattern BODY_BYTES = Pattern.compile("(?m)^losswatch_http_body_bytes (\\S+)$");

  /** A socket that sent {@code method path} with these header lines and a Content-Length, then {@code body} bytes. */
  private static Socket send(int port, String path, List<String> headers, long length, int body) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    StringBuilder head = new StringBuilder("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n");
    for (String h : headers) head.append(h).append("\r\n");
    head.append("Content-Length: ").append(length).append("\r\n\r\n");
    s.getOutputStream().write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (body > 0) s.getOutputStream().write(" ".repeat(body).getBytes(StandardCharsets.ISO_8859_1));   // JSON whitespace
    s.getOutputStream().flush();
    return s;
  }

  /** The answer's status line and head and (by its Content-Length) body, or null if none comes within the time. */
  private static String answer(Socket s, long millis) throws IOException {
    s.setSoTimeout((int) millis);
    InputStream in = s.getInputStream();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    try {
      int end = -1;
      while (end < 0) {
        int b = in.read();
        if (b < 0) return got.size() == 0 ? null : got.toString(StandardCharsets.ISO_8859_1);
        got.write(b);
        end = got.toString(StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");
      }
      String head = got.toString(StandardCharsets.ISO_8859_1);
      Matcher m = Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
      if (m.find()) got.write(in.readNBytes(Integer.parseInt(m.group(1))));
      return got.toString(StandardCharsets.UTF_8);
    } catch (SocketTimeoutException e) {
      return null;
    }
  }

  private static List<String> json(String... more) {
    List<String> h = new ArrayList<>(List.of("Content-Type: application/json"));
    h.addAll(List.of(more));
    return h;
  }

  private static double bodyBytes(TestServer s) throws Exception {
    Matcher m = BODY_BYTES.matcher(s.get("/metrics").body());
    assertTrue(m.find(), "losswatch_http_body_bytes in /metrics");
    return Double.parseDouble(m.group(1));
  }

  @Test
  void aBadHeadIsRefusedBeforeItsBodyIsRead() throws Exception {
    try (TestServer s = new TestServer(ServerConfig.defaults().forTest(0).withToken("s3cret"))) {
      s.bearer = "s3cret";
      String id = s.create("{\"source\":\"external\",\"name\":\"target\"}");
      String token = "Authorization: Bearer s3cret";
      record Case(String why, String path, List<String> headers, long length, int status, String says) {
      }
      for (Case c : List.of(
          new Case("an unknown run", "/api/runs/nosuchrun/steps", json(token), DECLARED, 404, "no run with id"),
          new Case("no token", "/api/runs/" + id + "/steps", json(), DECLARED, 401, "bearer token"),
          new Case("a wrong token", "/api/runs/" + id + "/steps", json("Authorization: Bearer nope"), DECLARED, 401,
              "wrong bearer token"),
          new Case("not JSON", "/api/runs/" + id + "/steps", List.of("Content-Type: text/plain", token), DECLARED, 403,
              "Content-Type"),
          new Case("over 4 MiB", "/api/runs/" + id + "/steps", json(token), IngestApi.MAX_BODY_BYTES + 1L, 413,
              "the body is over 4194304 bytes (4 MiB)"),
          new Case("a run spec over 64 KiB", "/api/runs", json(token), 65 * 1024, 413, "64 KiB"),
          new Case("an unknown run's finish", "/api/runs/nosuchrun/finish", json(token), 60_000, 404, "no run"))) {
        try (Socket sock = send(s.port(), c.path, c.headers, c.length, 0)) {   // the head only: no byte of the body
          String a = answer(sock, 10_000);
          assertNotNull(a, c.why + ": answered before its body");
          assertTrue(a.startsWith("HTTP/1.1 " + c.status + " "), c.why + ": " + a);
          assertTrue(a.contains(c.says), c.why + ": " + a);
        }
      }
      assertEquals(200, s.get("/health").status());
      assertEquals(0.0, bodyBytes(s), "nothing held");
    }
  }

  @Test
  void aThousandSlowBodiesHoldABoundedShareAndTheServerKeepsAnswering() throws Exception {
    int connections = 1000;
    long reading = BodyLimits.MAX_IN_FLIGHT / DECLARED;   // bodies read at once, at most
    try (TestServer s = new TestServer()) {
      String id = s.create("{\"source\":\"external\",\"name\":\"target\"}");
      String path = "/api/runs/" + id + "/steps";
      List<Socket> flood = new ArrayList<>();
      try {
        for (int i = 0; i < connections; i++) flood.add(send(s.port(), path, json(), DECLARED, 16 * 1024));
        // all but a bounded few are told at once to come back later; those few wait for the rest of their bodies
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<Socket> waiting = flood;
        while (waiting.size() > reading) {
          assertTrue(System.nanoTime() < end, waiting.size() + " connections not answered, while at most " + reading
              + " bodies may be read at once");
          List<Socket> still = new ArrayList<>();
          for (Socket f : waiting) if (f.getInputStream().available() == 0) still.add(f);
          waiting = still;
          Thread.sleep(50);
        }
        assertTrue(!waiting.isEmpty(), "some are being read");
        int busy = 0;
        for (Socket f : flood) {
          if (waiting.contains(f)) continue;
          String a = answer(f, 10_000);
          assertTrue(a != null && a.startsWith("HTTP/1.1 503 "), "refused cleanly: " + a);
          assertTrue(a.contains("Retry-After: 1") && a.contains("\"error\":\"busy: "), a);
          busy++;
        }
        assertTrue(busy >= connections - reading, busy + " told busy");
        double held = bodyBytes(s);
        assertTrue(held > 0 && held <= BodyLimits.MAX_IN_FLIGHT, "bodies held: " + held);
        assertEquals(200, s.get("/health").status(), "/health answers during the flood");
        assertEquals(200, s.get("/api/runs/" + id).status(), "and reads");
        assertTrue(s.get("/metrics").body().contains("losswatch_http_busy_total " + (double) busy), "counted");
      } finally {
        for (Socket f : flood) f.close();
      }
      // the connections gone, their share is free: the script's own append is taken
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (bodyBytes(s) > 0) {
        assertTrue(System.nanoTime() < end, "released once the connections closed: " + bodyBytes(s));
        Thread.sleep(20);
      }
      TestServer.Response r = s.post(path, "{\"step\":[1],\"loss\":[1]}");
      assertEquals(200, r.status(), r.body());
    }
  }

  @Test
  void aBodyThatStallsIsCutOff() throws Exception {
    try (TestServer s = new TestServer()) {
      String id = s.create("{\"source\":\"external\",\"name\":\"target\"}");
      long start = System.nanoTime();
      try (Socket stalled = send(s.port(), "/api/runs/" + id + "/steps", json(), 1000, 10)) {
        String a = answer(stalled, BodyLimits.BODY_MS + 15_000);
        assertNotNull(a, "answered");
        assertTrue(a.startsWith("HTTP/1.1 408 "), a);
        assertTrue(a.contains("did not arrive whole within 30 s"), a);
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(BodyLimits.BODY_MS - 1000), "not before");
        stalled.setSoTimeout(10_000);
        assertEquals(-1, stalled.getInputStream().read(), "and the connection is closed");
      }
      assertEquals(0.0, bodyBytes(s), "its share released");
    }
  }
}
