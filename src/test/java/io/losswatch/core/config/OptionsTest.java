package io.losswatch.core.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Options read, and describing, note what they would read and answer what lets a reader run to its end. */
class OptionsTest {
  @Test
  void describingNotesEachOptionAndAnswersItsDefaultOrAStandIn() {
    Options o = Options.describing("schedule", Map.of("type", "x"));
    assertEquals("x", o.type(List.of("x")));
    assertEquals(0.5, o.number("f", v -> v > 0 && v < 1, "must be in (0, 1)"), "the first stand-in that passes");
    assertEquals(0.1, o.number("g", 0.1, v -> v > 0, "must be > 0"));
    assertEquals(10, o.integer("n", 2));
    assertEquals(1000, o.byDefault("the run's steps").integer("total", 1000, 1));
    assertEquals("min", o.choice("mode", null, "min", "max"));
    assertArrayEquals(new int[] {10}, o.integers("at", 1, "is required"));
    o.done("x");
    List<Map<String, Object>> d = o.described();
    assertEquals(List.of("f", "g", "n", "total", "mode", "at"), d.stream().map(e -> e.get("name")).toList(), "not type");
    assertEquals(Map.of("name", "f", "kind", "number", "required", true, "must", "must be in (0, 1)"), without(d.get(0)));
    assertNull(d.get(0).get("default"));
    assertEquals(0.1, d.get(1).get("default"));
    assertEquals("the run's steps", d.get(3).get("default_text"));
    assertNull(d.get(3).get("default"));
    assertEquals(List.of("min", "max"), d.get(4).get("choices"));
    assertEquals(true, d.get(4).get("required"));
  }

  @Test
  void readingIsUnchangedByWhatOnlyDescribes() {
    Options o = Options.of("s", Map.of("total", 5.0, "on", List.of("a", "c")));
    assertEquals(5, o.byDefault("the run's steps").integer("total", 1000, 1));
    SpecException e = assertThrows(SpecException.class, () -> o.strings("on", List.of("a"), List.of("a", "b")));
    assertEquals("s.on[1]", e.field());
    assertEquals("must be one of [a, b], got \"c\"", e.reason());
    assertThrows(IllegalStateException.class, o::described);
    SpecException missing = assertThrows(SpecException.class,
        () -> Options.of("", Map.of()).integers("at", 1, "is required: the milestone steps"));
    assertEquals("at: is required: the milestone steps", missing.getMessage());
  }

  private static Map<String, Object> without(Map<String, Object> m) {
    Map<String, Object> out = new java.util.LinkedHashMap<>(m);
    out.remove("default");
    return out;
  }
}
