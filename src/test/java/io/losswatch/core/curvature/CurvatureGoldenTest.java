package io.losswatch.core.curvature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.core.RunSpec;
import io.losswatch.core.Trainer;
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
 * Replays every case of {@code src/test/python/make_curvature_golden.py} (output under
 * {@code src/test/resources/curvature/}) and checks, at each measured step, the sharpness against the largest
 * eigenvalue of torch's Hessian ({@code torch.autograd.functional.hessian}) at the same point and sample, of
 * P^(−1/2)·H·P^(−1/2) with P from torch's optimizer state for the adaptive optimizers. The contract is 1%;
 * the core holds {@link #REL}. The loss beside it says the trajectories are the same.
 */
class CurvatureGoldenTest {
  /** Sharpness, relative. */
  static final double REL = 1e-6;
  /** Loss, relative: the same trajectory (the mlp's sums run in another order than torch's). */
  private static final double LOSS_REL = 1e-9;

  @TestFactory
  Stream<DynamicTest> torchHessians() {
    Map<?, ?> manifest = (Map<?, ?>) Json.parse(resource("/curvature/cases.json"));
    List<?> cases = (List<?>) manifest.get("cases");
    assertFalse(cases.isEmpty(), "no golden cases");
    List<DynamicTest> tests = new ArrayList<>();
    for (Object entry : cases) {
      Map<?, ?> m = (Map<?, ?>) entry;
      String name = (String) m.get("name");
      String spec = Json.write(m.get("spec"));
      tests.add(DynamicTest.dynamicTest(name, () -> check(name, RunSpec.parse(spec))));
    }
    return tests.stream();
  }

  private static void check(String name, RunSpec spec) {
    Trainer trainer = new Trainer(spec);
    int row = 0;
    double worst = 0;
    List<double[]> golden = rows(name);
    for (int t = 1; t <= spec.steps(); t++) {
      trainer.step();
      if (t % spec.curvatureEvery() != 0) {
        assertTrue(Double.isNaN(trainer.sharpness()), name + " step " + t + ": not a measured step");
        continue;
      }
      double[] g = golden.get(row++);
      assertEquals(t, (long) g[0], name + ": golden step numbering");
      assertEquals(g[1], trainer.loss(), LOSS_REL * Math.abs(g[1]), name + " step " + t + ": loss (the trajectory)");
      double rel = Math.abs(trainer.sharpness() - g[2]) / Math.abs(g[2]);
      worst = Math.max(worst, rel);
      assertTrue(rel <= REL, name + " step " + t + ": sharpness " + trainer.sharpness() + ", torch " + g[2]
          + " (relative difference " + rel + ")");
    }
    assertEquals(golden.size(), row, name + ": golden rows vs measured steps");
    System.out.printf("%-34s %2d measurements, sharpness within %.2g of torch's (preconditioned: %s)%n", name, row,
        worst, trainer.preconditioned());
  }

  /** Rows of (step, loss, sharpness). */
  private static List<double[]> rows(String name) {
    String[] lines = resource("/curvature/" + name + ".csv").split("\r?\n");
    assertEquals("step,loss,sharpness", lines[0], name + ".csv header");
    List<double[]> rows = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      if (lines[i].isEmpty()) continue;
      String[] f = lines[i].split(",", -1);
      rows.add(new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])});
    }
    return rows;
  }

  private static String resource(String path) {
    try (InputStream in = CurvatureGoldenTest.class.getResourceAsStream(path)) {
      assertNotNull(in, "missing test resource " + path + " (run src/test/python/make_curvature_golden.py)");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
