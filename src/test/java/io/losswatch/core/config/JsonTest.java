package io.losswatch.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The strict reader: escapes and surrogates. */
class JsonTest {
  @Test
  void escapesAndPairsRead() {
    assertEquals("A\u00e9\n/\"", Json.parse("\"\\u0041\\u00E9\\n\\/\\\"\""));
    assertEquals("\uD83D\uDE00", Json.parse("\"\\uD83D\\uDE00\""), "an escaped pair");
    assertEquals("\uD83D\uDE00", Json.parse("\"\uD83D\uDE00\""), "a raw pair");
    assertEquals("x\uD83D\uDE00y", Json.parse("\"x\\uD83D\uDE00y\""), "escaped high, raw low");
  }

  /** The offsets count UTF-16 units of the input: where the bad escape or the lone surrogate starts. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "\"\\u+041\"|bad \\u escape: needs exactly four hex digits at offset 1",
      "\"\\u-041\"|bad \\u escape: needs exactly four hex digits at offset 1",
      "\"\\u 041\"|bad \\u escape: needs exactly four hex digits at offset 1",
      "\"\\u041\"|bad \\u escape: needs exactly four hex digits at offset 1",
      "\"ab\\u12\"|bad \\u escape: needs exactly four hex digits at offset 3",
      "\"\\u٠٠٤١\"|bad \\u escape: needs exactly four hex digits at offset 1",
      "\"x\\uD800\"|lone high surrogate at offset 2",
      "\"\\uD800x\"|lone high surrogate at offset 1",
      "\"\\uD800\\uD800\\uDC00\"|lone high surrogate at offset 1",
      "\"\\uDC00\"|lone low surrogate at offset 1",
      "\"\\uDE00\\uD83D\"|lone low surrogate at offset 1",
      "{\"a\\uDFFF\":1}|lone low surrogate at offset 3",
  })
  void rejectsBadEscapesAndLoneSurrogates(String text, String expected) {
    SpecException e = assertThrows(SpecException.class, () -> Json.parse(text));
    assertEquals("invalid JSON: " + expected, e.getMessage());
  }

  @Test
  void rejectsRawLoneSurrogates() {
    assertEquals("invalid JSON: lone high surrogate at offset 2",
        assertThrows(SpecException.class, () -> Json.parse("\"a\uD800b\"")).getMessage());
    assertEquals("invalid JSON: lone high surrogate at offset 1",
        assertThrows(SpecException.class, () -> Json.parse("\"\uD800\"")).getMessage());
    assertEquals("invalid JSON: lone low surrogate at offset 1",
        assertThrows(SpecException.class, () -> Json.parse("\"\uDC00\uD800\"")).getMessage());
    assertTrue(assertThrows(SpecException.class, () -> Json.parse("[\"ok\",\"\uDBFF\"]")).getMessage()
        .endsWith("lone high surrogate at offset 7"));
  }
}
