package io.losswatch.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.losswatch.core.config.Json;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The range test's smoothing and suggestions equal the Python client's, case by case, to the last bit: the
 * fixture is written by clients/python/tests/make_lr_range_fixture.py (checked there against Lightning's and
 * fastai's own code).
 */
class LrRangeTest {
  private static double[] doubles(Object list) {
    List<?> l = (List<?>) list;
    double[] out = new double[l.size()];
    for (int i = 0; i < out.length; i++) {
      Object v = l.get(i);
      out[i] = v instanceof String s ? Double.parseDouble(s) : ((Number) v).doubleValue();
    }
    return out;
  }

  private static double expected(Object v) {
    return v == null ? Double.NaN : v instanceof String s ? Double.parseDouble(s) : ((Number) v).doubleValue();
  }

  @Test
  @SuppressWarnings("unchecked")
  void suggestionsAndSmoothingEqualThePythonClientsOnEveryCase() throws Exception {
    Map<String, Object> fixture;
    try (InputStream in = getClass().getResourceAsStream("/lr_range/suggestions.json")) {
      assertNotNull(in, "run clients/python/tests/make_lr_range_fixture.py");
      fixture = (Map<String, Object>) Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    List<Map<String, Object>> cases = (List<Map<String, Object>>) fixture.get("cases");
    assertEquals(13, cases.size());
    for (Map<String, Object> c : cases) {
      String name = (String) c.get("name");
      double[] lrs = doubles(c.get("lrs"));
      double[] smoothed = doubles(c.get("smoothed"));
      int n = ((Number) c.get("num_steps")).intValue();
      if (c.containsKey("losses")) {
        double[] mine = LrRange.smooth(doubles(c.get("losses")), ((Number) c.get("beta")).doubleValue());
        for (int i = 0; i < mine.length; i++) {
          assertEquals(Double.doubleToLongBits(smoothed[i]), Double.doubleToLongBits(mine[i]), name + ": smoothed[" + i + "]");
        }
      }
      Map<String, Object> want = (Map<String, Object>) c.get("expected");
      assertEquals(expected(want.get("steepest")), LrRange.steepest(lrs, smoothed), name + ": steepest");
      assertEquals(expected(want.get("valley")), LrRange.valley(lrs, smoothed, n), name + ": valley");
      assertEquals(expected(want.get("minimum/10")), LrRange.minimumTenth(lrs, smoothed, n), name + ": minimum/10");
    }
  }

  @Test
  void theStopFiresOnceTheSmoothedLossPassesItsFactorOfTheLowest() {
    LrRange.Watch w = new LrRange.Stop(0.0, 4).watch();   // β 0: the raw loss itself
    for (double loss : new double[] {10, 5, 2, 1, 3, 4}) assertEquals(false, w.diverged(loss), "at " + loss);
    assertEquals(true, w.diverged(4.5));
    assertEquals(true, new LrRange.Stop(0.98, 4).watch().diverged(Double.NaN));
  }
}
