package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Property-based fuzzing from seeded generators (print the seed to replay a failure): whatever arrives, the
 * server answers 2xx or 4xx with a JSON error, never a stack trace, and keeps serving.
 */
class FuzzIT extends SharedServer {
  private static final List<String> KEYS = List.of("name", "problem", "optimizer", "schedule", "steps",
      "steps_per_second", "auto_lr", "type", "lr", "momentum", "betas", "eps", "weight_decay", "x0", "hidden",
      "batch_size", "T_max", "max_lr", "milestones", "gamma", "op", "runs", "mode", "max_hz", "\u0000", "üñí");
  private static final List<String> TYPES = List.of("quadratic", "rosenbrock", "mlp", "sgd", "adam", "adamw",
      "rmsprop", "adagrad", "cosine", "onecycle", "plateau", "warmup_cosine", "step", "subscribe", "*", "");

  /** A random JSON value, biased towards what the parser must judge. */
  static String value(SplittableRandom r, int depth) {
    switch (r.nextInt(depth > 2 ? 6 : 9)) {
      case 0: return String.valueOf(r.nextInt(-5, 100));
      case 1: return List.of("1e400", "-1e-400", "0", "-0.0", "1.5", "3e9", "NaN", "1e", "--1", "0x10").get(r.nextInt(10));
      case 2: return Json.write(TYPES.get(r.nextInt(TYPES.size())));
      case 3: return List.of("true", "false", "null").get(r.nextInt(3));
      case 4: return "\"" + "x".repeat(r.nextInt(0, 50)) + "\"";
      case 5: return String.valueOf(r.nextDouble() * 10);
      case 6: {
        StringBuilder b = new StringBuilder("[");
        for (int i = r.nextInt(4); i > 0; i--) b.append(value(r, depth + 1)).append(i > 1 ? "," : "");
        return b.append(']').toString();
      }
      default: return object(r, depth + 1);
    }
  }

  static String object(SplittableRandom r, int depth) {
    StringBuilder b = new StringBuilder("{");
    for (int i = r.nextInt(6); i > 0; i--) {
      b.append(Json.write(KEYS.get(r.nextInt(KEYS.size())))).append(':').append(value(r, depth)).append(i > 1 ? "," : "");
    }
    return b.append('}').toString();
  }

  /** A valid spec, mutated: a key's value replaced, a key added, the text cut short or garbled. */
  static String spec(SplittableRandom r) {
    String valid = "{\"problem\":{\"type\":\"quadratic\",\"x0\":[3]},\"optimizer\":{\"type\":\"adam\",\"lr\":0.01},"
        + "\"schedule\":{\"type\":\"cosine\",\"T_max\":50},\"steps\":50}";
    return switch (r.nextInt(5)) {
      case 0 -> valid.replaceFirst("\"" + List.of("lr", "T_max", "steps", "x0", "type").get(r.nextInt(5)) + "\":[^,}]*",
          "\"lr\":" + value(r, 2));
      case 1 -> valid.substring(0, valid.length() - 1) + "," + Json.write(KEYS.get(r.nextInt(KEYS.size()))) + ":"
          + value(r, 1) + "}";
      case 2 -> valid.substring(0, r.nextInt(valid.length()));
      case 3 -> {
        char[] c = valid.toCharArray();
        String garbage = "{}[]\",:\\x\u0001";
        c[r.nextInt(c.length)] = garbage.charAt(r.nextInt(garbage.length()));
        yield new String(c);
      }
      default -> object(r, 0);
    };
  }

  private static void assertNoStackTrace(String body, String context) {
    assertFalse(body.contains("Exception") || body.contains("\tat ") || body.contains(".java:"), context + ": " + body);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4})
  void runSpecsNeverBreakTheServer(long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < 150; i++) {
      String body = spec(r);
      String context = "seed " + seed + " case " + i + " body " + body;
      TestServer.Response resp = server.post("/api/runs", body);
      assertTrue(Set.of(201, 400, 413, 429).contains(resp.status()), context + " -> " + resp.status());
      assertNoStackTrace(resp.body(), context);
      Map<String, Object> json = resp.json();
      if (resp.status() == 201) {
        assertEquals(204, server.request("DELETE", "/api/runs/" + json.get("id"), null).status());
      } else {
        assertTrue(json.get("error") instanceof String, context);
      }
    }
    assertEquals(200, server.get("/health").status());
  }

  @ParameterizedTest
  @ValueSource(longs = {11, 12, 13})
  void webSocketMessagesNeverBreakTheServer(long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    try (TestServer.Client c = server.client()) {
      for (int i = 0; i < 90; i++) {   // under the 100-a-minute limit
        String m = r.nextBoolean() ? object(r, 0)
            : "{\"op\":" + value(r, 2) + ",\"runs\":" + value(r, 2) + ",\"mode\":" + value(r, 2) + ",\"max_hz\":" + value(r, 2) + "}";
        c.send(m);
      }
      c.subscribe("{\"op\":\"subscribe\",\"runs\":[\"*\"]}");   // and it still answers, in order
      assertFalse(c.ws.isClosed(), "seed " + seed);
      for (String text : c.inbox) {
        assertNoStackTrace(text, "seed " + seed);
        assertFalse(text.contains("internal error"), "seed " + seed + ": " + text);
        assertTrue(Json.parse(text) instanceof Map, text);
      }
    }
    assertEquals(200, server.get("/health").status());
  }
}
