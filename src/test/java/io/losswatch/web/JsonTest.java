package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.event.Appended;
import io.losswatch.event.StepBatch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The numbers and shapes of what the server sends, as docs/rest.md and docs/websocket.md say them. */
class JsonTest {
  private static String number(double d) {
    return Json.text(g -> Json.number(g, d));
  }

  @Test
  void integralDoublesAreIntegersAndNonFiniteOnesAreStrings() {
    assertEquals("3", number(3.0));
    assertEquals("-1", number(-1.0));
    assertEquals("0", number(-0.0));
    assertEquals("999999999999999", number(999_999_999_999_999.0));
    assertEquals(1e15, Double.parseDouble(number(1e15)));
    assertEquals("0.001", number(0.001));
    assertEquals("\"NaN\"", number(Double.NaN));
    assertEquals("\"Infinity\"", number(Double.POSITIVE_INFINITY));
    assertEquals("\"-Infinity\"", number(Double.NEGATIVE_INFINITY));
  }

  /** The fast writer (Schubfach) is exact: every double reads back as itself, and is no longer than Double.toString. */
  @Test
  void everyDoubleReadsBackAsItself() {
    SplittableRandom r = new SplittableRandom(21);
    double[] some = {Double.MIN_VALUE, Double.MAX_VALUE, Double.MIN_NORMAL, 0.1, 1.0 / 3, 2.302585092994046, 1e-7, 1e7,
        1e23, 2e23, 5e-324, 1.0E-5, 123456.789e-300};
    for (int i = 0; i < 200_000 + some.length; i++) {
      double d = i < some.length ? some[i] : i % 2 == 0 ? Double.longBitsToDouble(r.nextLong()) : r.nextDouble() * Math.pow(10, r.nextInt(-20, 20));
      if (!Double.isFinite(d)) continue;
      String text = number(d);
      assertEquals(d, Double.parseDouble(text), text);
      assertTrue(text.length() <= Math.max(Double.toString(d).length(), Long.toString((long) d).length()), text + " for " + d);
    }
  }

  @Test
  void stringsAreEscapedAndTreesKeepTheirOrder() {
    assertEquals("\"a\\\"b\\\\c\\nd\\u0001\"", Json.quote("a\"b\\c\nd\u0001"));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("z", 1.0);
    m.put("a", List.of(0.5, "x", true));
    m.put("n", null);
    m.put("i", 7);
    assertEquals("{\"z\":1,\"a\":[0.5,\"x\",true],\"n\":null,\"i\":7}", Json.tree(m));
  }

  @Test
  void stepsAreColumnsWithMetricsAndAWebSocketMessageNamesItsRun() {
    StepBatch b = new StepBatch("r1", 2, new long[] {1, 2, 3}, new double[] {1.5, Double.NaN, 0.25},
        new double[] {0.1, 0.1, 0.1}, new double[] {Double.NaN, Double.NaN, Double.POSITIVE_INFINITY}, new long[] {7, 8, 9},
        Map.of("val.acc", new double[] {0.5, 0.75, 1}));
    assertEquals("{\"step\":[2,3],\"loss\":[\"NaN\",0.25],\"lr\":[0.1,0.1],\"grad_norm\":[\"NaN\",\"Infinity\"],"
        + "\"t\":[8,9],\"sharpness\":[null,null],\"stability\":[null,null],\"metrics\":{\"val.acc\":[0.75,1]}}",
        Json.steps(b, 1, 3, false));
    // the curvature's columns, once: the steps' own (a script's as a built-in run's), null where not measured
    StepBatch m = new StepBatch("r1", 0, new long[] {1, 2}, new double[] {1, 1}, new double[] {0.1, 0.1},
        new double[] {1, 1}, new long[] {7, 8}, Map.of(), new double[] {Double.NaN, 20}, new double[] {Double.NaN, 1});
    assertEquals("{\"step\":[1,2],\"loss\":[1,1],\"lr\":[0.1,0.1],\"grad_norm\":[1,1],\"t\":[7,8],"
        + "\"sharpness\":[null,20],\"stability\":[null,1]}", Json.steps(m, 0, 2, false));
    assertTrue(Json.steps(b, 0, 1, true).startsWith("{\"type\":\"steps\",\"run\":\"r1\",\"cycle\":2,\"step\":[1],"));
    assertEquals("{\"type\":\"frame\",\"t\":5,\"runs\":[" + Json.frameEntry(b) + "," + Json.frameEntry(b) + "]}",
        Json.frame(5, List.of(Json.frameEntry(b), Json.frameEntry(b))));
  }

  @Test
  void anAppendsAnswerCarriesItsCommands() {
    Appended a = new Appended(2, 1, 0, 9, List.of(
        Appended.Command.lr("c1", 0.01, Double.NaN),
        Appended.Command.rewind("c2", 5, 0.1),
        Appended.Command.probe("c3", new double[] {10, 1, 0.1}, 20),
        Appended.Command.stop("c4", "diverged")));
    assertEquals("{\"accepted\":2,\"duplicates\":1,\"skipped\":0,\"last_step\":9,\"commands\":["
        + "{\"id\":\"c1\",\"op\":\"lr\",\"lr\":0.01,\"factor\":null},"
        + "{\"id\":\"c2\",\"op\":\"rewind\",\"to_step\":5,\"lr_factor\":0.1},"
        + "{\"id\":\"c3\",\"op\":\"probe\",\"factors\":[10,1,0.1],\"horizon\":20},"
        + "{\"id\":\"c4\",\"op\":\"stop\",\"reason\":\"diverged\"}]}", Json.appended(a));
    assertEquals("{\"error\":\"x: bad\",\"field\":\"x\",\"state\":\"finished\"}", Json.error("x: bad", "x", "finished"));
    assertEquals("{\"error\":\"bad\"}", Json.error("bad", ""));
  }
}
