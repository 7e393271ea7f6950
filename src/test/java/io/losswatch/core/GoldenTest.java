package io.losswatch.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.losswatch.core.config.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Replays every golden case made by PyTorch ({@code src/test/python/make_golden.py}, output committed under
 * {@code src/test/resources/golden/}) through the Java core, and checks each step's loss, learning rate and
 * gradient norm against torch's to 1e-9 relative.
 *
 * <p>The CSVs hold Python {@code repr(float)} values, so non-finite numbers read {@code nan}, {@code inf},
 * {@code -inf}. NaN must meet NaN and an infinity the same infinity.
 */
class GoldenTest {
  private static final double REL = 1e-9;
  private static final double ABS_FLOOR = 1e-300;
  private static final String[] COLUMNS = {"loss", "lr", "grad_norm"};
  /** How many mismatching cells a failure lists (the first is where the trajectories part). */
  private static final int REPORT = 8;

  @TestFactory
  Stream<DynamicTest> torchTrajectories() {
    Object manifest = Json.parse(resource("/golden/cases.json"));
    assertFalse(((List<?>) manifest).isEmpty(), "no golden cases");
    List<DynamicTest> tests = new ArrayList<>();
    for (Object entry : (List<?>) manifest) {
      Map<?, ?> m = (Map<?, ?>) entry;
      String name = (String) m.get("name");
      String specJson = Json.write(m.get("spec"));
      tests.add(DynamicTest.dynamicTest(name, () -> check(name, specJson)));
    }
    return tests.stream();
  }

  private static void check(String name, String specJson) {
    double[][] golden = readCsv(name);
    RunSpec spec = RunSpec.parse(specJson);
    assertEquals(golden.length, spec.steps(), name + ": golden rows vs spec.steps");
    Trainer trainer = new Trainer(spec);
    StringBuilder report = new StringBuilder();
    double[] worst = new double[COLUMNS.length];
    int mismatches = 0;
    for (int t = 1; t <= spec.steps(); t++) {
      trainer.step();
      assertEquals(t, trainer.stepsTaken(), name + ": stepsTaken after step " + t);
      double[] row = golden[t - 1];
      assertEquals(t, (int) row[0], name + ": golden step numbering");
      double[] got = {trainer.loss(), trainer.lr(), trainer.gradNorm()};
      for (int c = 0; c < COLUMNS.length; c++) {
        double want = row[c + 1];
        if (Double.isFinite(want) && Double.isFinite(got[c])) worst[c] = Math.max(worst[c], relDiff(want, got[c]));
        if (close(want, got[c])) continue;
        if (mismatches++ < REPORT) {
          report.append(String.format("%n  %s step %d %s: torch %s, java %s (rel diff %.3g)", name, t,
              COLUMNS[c], repr(want), repr(got[c]), relDiff(want, got[c])));
        }
      }
    }
    // for the record: how close each case comes (the reports list it per case)
    System.out.printf("golden %-48s max rel diff: loss %.1e, lr %.1e, grad_norm %.1e%n", name, worst[0], worst[1],
        worst[2]);
    if (mismatches > 0) {
      fail(name + ": " + mismatches + " of " + 3 * spec.steps() + " values differ from torch beyond "
          + REL + " relative; first ones:" + report);
    }
  }

  /** |a−b| ≤ 1e-9·max(|a|,|b|) with an absolute floor of 1e-300; NaN only matches NaN, ±inf the same inf. */
  static boolean close(double want, double got) {
    if (Double.isNaN(want) || Double.isNaN(got)) return Double.isNaN(want) && Double.isNaN(got);
    if (Double.isInfinite(want) || Double.isInfinite(got)) return want == got;
    double tol = Math.max(REL * Math.max(Math.abs(want), Math.abs(got)), ABS_FLOOR);
    return Math.abs(want - got) <= tol;
  }

  private static double relDiff(double a, double b) {
    double scale = Math.max(Math.abs(a), Math.abs(b));
    return scale == 0 ? 0 : Math.abs(a - b) / scale;
  }

  private static String repr(double d) {
    return Double.isFinite(d) ? Double.toString(d) : nonFinite(d);
  }

  private static String nonFinite(double d) {
    return Double.isNaN(d) ? "nan" : d > 0 ? "inf" : "-inf";
  }

  /** Rows of (step, loss, lr, grad_norm) from {@code /golden/<name>.csv}. */
  private static double[][] readCsv(String name) {
    String[] lines = resource("/golden/" + name + ".csv").split("\r?\n");
    assertEquals("step,loss,lr,grad_norm", lines[0], name + ".csv header");
    List<double[]> rows = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      if (lines[i].isEmpty()) continue;
      String[] f = lines[i].split(",", -1);
      assertEquals(4, f.length, name + ".csv line " + (i + 1));
      double[] r = new double[4];
      for (int k = 0; k < 4; k++) r[k] = number(f[k]);
      rows.add(r);
    }
    return rows.toArray(new double[0][]);
  }

  /** A Python repr(float): Java's syntax plus {@code nan}, {@code inf}, {@code -inf}. */
  static double number(String s) {
    switch (s) {
      case "nan": return Double.NaN;
      case "inf": return Double.POSITIVE_INFINITY;
      case "-inf": return Double.NEGATIVE_INFINITY;
      default: return Double.parseDouble(s);
    }
  }

  private static String resource(String path) {
    try (InputStream in = GoldenTest.class.getResourceAsStream(path)) {
      assertNotNull(in, "missing test resource " + path + " (run src/test/python/make_golden.py)");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
