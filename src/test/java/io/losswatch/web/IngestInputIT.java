package io.losswatch.web;

import static io.losswatch.web.TestServer.nums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a script may send in an append, and how the server says what it refused: the real limit, field and value. */
class IngestInputIT extends SharedServer {
  private static final String EXTERNAL = "{\"source\":\"external\",\"name\":\"%s\",\"optimizer\":{\"type\":\"adamw\","
      + "\"lr\":0.001}}";

  private String create(String name) throws Exception {
    return server.create(EXTERNAL.formatted(name));
  }

  private Map<String, Object> refused(int status, String id, String body) throws Exception {
    TestServer.Response r = server.post("/api/runs/" + id + "/steps", body);
    assertEquals(status, r.status(), body.length() > 200 ? body.substring(0, 200) : body + " → " + r.body());
    return r.json();
  }

  @Test
  void anAppendOverItsLimitIsToldTheAppendsLimit() throws Exception {
    String id = create("too big");
    int limit = 4 * 1024 * 1024;
    StringBuilder body = new StringBuilder("{\"step\":[1],\"loss\":[1],\"pad\":\"");
    body.append("x".repeat(limit + 1 - body.length() - 2)).append("\"}");
    assertEquals(limit + 1, body.length());
    Map<String, Object> r = refused(413, id, body.toString());
    assertEquals("the body is over 4194304 bytes (4 MiB), the most one append may carry; send the steps in parts",
        r.get("error"));
    // other routes keep their own, smaller limit, and say it
    TestServer.Response big = server.post("/api/runs", "{\"name\":\"" + "x".repeat(70 * 1024) + "\"}");
    assertEquals(413, big.status());
    assertEquals("the body is over 65536 bytes (64 KiB), the most this request may carry", big.json().get("error"));
    assertEquals(List.of(), nums(server.get("/api/runs/" + id + "/steps").json().get("step")), "nothing stored");
  }
}
