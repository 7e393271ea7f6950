package io.losswatch.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.config.Json;
import io.losswatch.core.config.SpecException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tags and notes: in a spec of either kind, changed by a PATCH body, refused with the field named. */
class DescriptionTest {
  private static final String BUILTIN = "{\"problem\":\"quadratic\",\"optimizer\":{\"type\":\"sgd\",\"lr\":0.1},\"steps\":10";

  @Test
  void aSpecCarriesItsTagsAndNotesInItsJson() {
    RunSpec s = RunSpec.parse(BUILTIN + ",\"tags\":[\"baseline\",\" cosine \",\"baseline\"],\"notes\":\"first try\"}");
    assertEquals(List.of("baseline", "cosine"), s.tags(), "trimmed, each once");
    assertEquals("first try", s.notes());
    RunSpec e = RunSpec.parse("{\"source\":\"external\",\"name\":\"mine\",\"tags\":[\"x\"],\"notes\":\"n\",\"config\":{\"lr\":0.1}}");
    assertEquals(List.of("x"), e.tags());
    RunSpec none = RunSpec.parse(BUILTIN + "}");
    assertEquals(List.of(), none.tags());
    assertNull(none.notes());
  }

  @Test
  void aPatchChangesWhatItNamesAndKeepsTheRest() {
    RunSpec s = RunSpec.parse(BUILTIN + ",\"tags\":[\"a\"],\"notes\":\"kept\"}");
    RunSpec t = s.with(Description.patch(Json.parse("{\"tags\":[\"b\",\"c\"]}"), s.description()));
    assertEquals(List.of("b", "c"), t.tags());
    assertEquals("kept", t.notes());
    assertEquals(List.of("b", "c"), t.json().get("tags"), "in the JSON that run.json and every summary carry");
    RunSpec u = t.with(Description.patch(Json.parse("{\"tags\":[],\"notes\":\"\"}"), t.description()));
    assertEquals(List.of(), u.tags());
    assertNull(u.notes());
    assertFalse(u.json().containsKey("tags") || u.json().containsKey("notes"), "cleared: gone from the JSON");
    assertEquals(u, RunSpec.from(u.json()).with(u.description()), "read back the same");
    assertEquals(t.tags(), RunSpec.from(t.json()).tags(), "restored from its JSON (a restart)");
  }

  @Test
  void whatIsRefusedIsNamed() {
    assertEquals("tags[1]", refused(BUILTIN + ",\"tags\":[\"a\",\"\"]}").field());
    assertEquals("tags[0]", refused(BUILTIN + ",\"tags\":[\"" + "x".repeat(65) + "\"]}").field());
    assertEquals("tags", refused(BUILTIN + ",\"tags\":\"a\"}").field());
    assertEquals("tags", refused(BUILTIN + ",\"tags\":" + Json.write(java.util.Collections.nCopies(33, "t")) + "}").field());
    assertEquals("notes", refused(BUILTIN + ",\"notes\":[1]}").field());
    assertEquals("notes", refused(BUILTIN + ",\"notes\":\"" + "n".repeat(4097) + "\"}").field());
    SpecException e = assertThrows(SpecException.class, () -> Description.patch(Json.parse("{\"tags\":[\"a\"],\"name\":\"x\"}"),
        Description.NONE));
    assertEquals("name", e.field());
    assertTrue(e.getMessage().contains("tags, notes"), e.getMessage());
    assertThrows(SpecException.class, () -> Description.patch(Json.parse("{}"), Description.NONE));
    assertThrows(SpecException.class, () -> Description.patch(Json.parse("[]"), Description.NONE));
  }

  @Test
  void notesOfFourKilobytesFitBesideAFullSpec() {
    RunSpec s = RunSpec.parse(BUILTIN + ",\"notes\":\"" + "n".repeat(4096) + "\"}");
    assertEquals(4096, s.notes().length(), "the notes have a limit of their own");
  }

  @Test
  void theSchemaDescribesThem() {
    List<Map<String, Object>> run = RunSpec.describe();
    assertTrue(run.stream().anyMatch(o -> o.get("name").equals("tags") && o.get("kind").equals("strings")), run.toString());
    assertTrue(run.stream().anyMatch(o -> o.get("name").equals("notes") && o.get("kind").equals("string")), run.toString());
  }

  private static SpecException refused(String json) {
    return assertThrows(SpecException.class, () -> RunSpec.parse(json));
  }
}
